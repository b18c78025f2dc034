//===- FoldTest.cpp - shape inference and folding utilities ---------------===//

#include "dialects/onnx/ONNXDialect.h"

#include <gtest/gtest.h>

using namespace mlir;
using tessera::onnx::broadcastShapes;
using tessera::onnx::normalizeAxis;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(Broadcast, NumpyRules) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(broadcastShapes({2, 1, 4}, {3, 1}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{2, 3, 4}));
  ASSERT_TRUE(succeeded(broadcastShapes({}, {5}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{5}));
  EXPECT_TRUE(failed(broadcastShapes({2, 3}, {4}, out)));
}

TEST(Broadcast, DynamicDims) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(broadcastShapes({kDyn, 4}, {3, 1}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{3, 4}));
  ASSERT_TRUE(succeeded(broadcastShapes({kDyn}, {1}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{kDyn}));
}

TEST(Axis, Normalize) {
  EXPECT_EQ(normalizeAxis(-1, 3), 2);
  EXPECT_EQ(normalizeAxis(0, 3), 0);
  EXPECT_EQ(normalizeAxis(3, 3), -1);
  EXPECT_EQ(normalizeAxis(-4, 3), -1);
}

} // namespace
