//===- ImporterTest.cpp - importer edge cases -----------------------------===//
//
// Every bad input gives an llvm::Error with a clear message (never a crash);
// good inputs give a verified module with the right types and weights.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Importer.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

using namespace mlir;

namespace {

/// A temporary directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> path;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("tessera-test", path));
    dir = std::string(path);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }
  std::string dir;
};

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

::onnx::ModelProto parseText(const char *text) {
  ::onnx::ModelProto model;
  ::onnx::OnnxParser parser(text);
  auto status = parser.Parse(model);
  EXPECT_TRUE(status.IsOK()) << status.ErrorMessage();
  return model;
}

const char *kSmallModel = R"(
<ir_version: 8, opset_import: ["" : 17]>
g (float[N, 4] X) => (float[N, 4] Y) {
  two = Constant <value = float {2.0}> ()
  h = Mul (X, two)
  Y = Relu (h)
}
)";

struct ImportResult {
  OwningOpRef<ModuleOp> module;
  std::string error;
};

ImportResult importFile(MLIRContext &ctx, const std::string &path,
                        const tessera::ImportOptions &options = {}) {
  ImportResult r;
  auto module = tessera::importONNXFile(path, ctx, options);
  if (module)
    r.module = std::move(*module);
  else
    r.error = llvm::toString(module.takeError());
  return r;
}

ImportResult importBytes(MLIRContext &ctx, const std::string &bytes,
                         const tessera::ImportOptions &options = {}) {
  ImportResult r;
  auto module = tessera::importONNXBuffer(bytes, ".", ctx, options);
  if (module)
    r.module = std::move(*module);
  else
    r.error = llvm::toString(module.takeError());
  return r;
}

func::FuncOp entry(ModuleOp module) {
  return tessera::fused::getEntryFunctionAs<func::FuncOp>(module);
}

TEST(Importer, GoodModelImportsAndVerifies) {
  MLIRContext ctx;
  auto r = importBytes(ctx, parseText(kSmallModel).SerializeAsString());
  ASSERT_TRUE(r.module) << r.error;
  EXPECT_TRUE(succeeded(verify(*r.module)));
  auto fn = entry(*r.module);
  ASSERT_TRUE(fn);
  auto argType = cast<RankedTensorType>(fn.getArgumentTypes()[0]);
  EXPECT_TRUE(argType.isDynamicDim(0));
  EXPECT_EQ(argType.getDimSize(1), 4);
  EXPECT_EQ(fn.getArgAttrOfType<StringAttr>(0, "onnx.name").getValue(), "X");
}

TEST(Importer, MissingFile) {
  MLIRContext ctx;
  TempDir tmp;
  auto r = importFile(ctx, tmp.file("nope.onnx"));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.error.find("cannot open"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("nope.onnx"), std::string::npos) << r.error;
}

TEST(Importer, EmptyFile) {
  MLIRContext ctx;
  TempDir tmp;
  writeFile(tmp.file("empty.onnx"), "");
  auto r = importFile(ctx, tmp.file("empty.onnx"));
  EXPECT_FALSE(r.module);
  EXPECT_NE(r.error.find("empty"), std::string::npos) << r.error;
}

TEST(Importer, DirectoryInsteadOfFile) {
  MLIRContext ctx;
  TempDir tmp;
  auto r = importFile(ctx, tmp.dir);
  EXPECT_FALSE(r.module);
  EXPECT_FALSE(r.error.empty());
}

// Every truncation of a valid model is either rejected with a message or, if
// the cut happens to leave a complete smaller model, imports and verifies.
TEST(Importer, EveryTruncationIsHandled) {
  std::string bytes = parseText(kSmallModel).SerializeAsString();
  int rejected = 0;
  for (size_t n = 1; n < bytes.size(); ++n) {
    MLIRContext ctx;
    auto r = importBytes(ctx, bytes.substr(0, n));
    if (r.module) {
      EXPECT_TRUE(succeeded(verify(*r.module)));
    } else {
      EXPECT_FALSE(r.error.empty());
      ++rejected;
    }
  }
  EXPECT_GT(rejected, int(bytes.size()) / 2);
}

TEST(Importer, RandomBytesAreRejected) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char &c : bytes)
      c = static_cast<char>(rng());
    MLIRContext ctx;
    auto r = importBytes(ctx, bytes);
    EXPECT_FALSE(r.module) << "trial " << trial;
    EXPECT_FALSE(r.error.empty());
  }
}

// Bytes that are a valid protobuf but not a model.
TEST(Importer, ProtobufThatIsNotAModel) {
  ::onnx::TensorProto tensor;
  tensor.set_name("t");
  tensor.add_dims(2);
  MLIRContext ctx;
  auto r = importBytes(ctx, tensor.SerializeAsString());
  EXPECT_FALSE(r.module);
  EXPECT_FALSE(r.error.empty());
}

TEST(Importer, UnsupportedNodesAreAllListed) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17, "com.vendor" : 3]>
g (float[2] X) => (float[2] Y) {
  a = Relu (X)
  b = com.vendor.Magic (a)
  c = Bernoulli (b)
  d = Mish (c)
  Y = Abs (d)
}
)");
  model.mutable_graph()->mutable_node(1)->set_name("magic_node");
  model.mutable_graph()->mutable_node(2)->set_name("random_node");
  model.mutable_graph()->mutable_node(3)->set_name("mish_node");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("3 unsupported nodes"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("'magic_node' (Magic, domain 'com.vendor', opset 3)"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("'random_node' (Bernoulli, domain 'ai.onnx', opset 17)"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("'mish_node' (Mish"), std::string::npos) << r.error;
}

TEST(Importer, UnknownDomainIsNamed) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17, "org.unknown" : 1]>
g (float[2] X) => (float[2] Y) {
  Y = org.unknown.Op (X)
}
)");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("unknown domain 'org.unknown'"), std::string::npos)
      << r.error;
}

TEST(Importer, InputNotProduced) {
  auto model = parseText(kSmallModel);
  model.mutable_graph()->mutable_node(2)->set_input(0, "ghost");
  model.mutable_graph()->mutable_node(2)->set_name("relu");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("'relu'"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("'ghost'"), std::string::npos) << r.error;
}

TEST(Importer, MissingGraphAndOpset) {
  MLIRContext ctx;
  ::onnx::ModelProto noGraph;
  noGraph.set_ir_version(8);
  auto r = importBytes(ctx, noGraph.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("no graph"), std::string::npos) << r.error;

  auto model = parseText(kSmallModel);
  model.clear_opset_import();
  r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("default ONNX opset"), std::string::npos) << r.error;
}

TEST(Importer, ShapeOptionPinsDimensions) {
  tessera::ImportOptions options;
  ASSERT_FALSE(bool(tessera::parseShapeOption("X=3x4", options)));
  MLIRContext ctx;
  auto r =
      importBytes(ctx, parseText(kSmallModel).SerializeAsString(), options);
  ASSERT_TRUE(r.module) << r.error;
  auto fn = entry(*r.module);
  EXPECT_EQ(fn.getArgumentTypes()[0],
            RankedTensorType::get({3, 4}, Float32Type::get(&ctx)));
  EXPECT_EQ(fn.getResultTypes()[0],
            RankedTensorType::get({3, 4}, Float32Type::get(&ctx)));
}

TEST(Importer, ShapeOptionSyntax) {
  tessera::ImportOptions options;
  EXPECT_TRUE(bool(llvm::errorToBool(tessera::parseShapeOption("X", options))));
  EXPECT_TRUE(llvm::errorToBool(tessera::parseShapeOption("=1x2", options)));
  EXPECT_TRUE(llvm::errorToBool(tessera::parseShapeOption("X=1xb", options)));
  EXPECT_TRUE(llvm::errorToBool(tessera::parseShapeOption("X=-1", options)));
  EXPECT_FALSE(llvm::errorToBool(tessera::parseShapeOption("X=?x8", options)));
  ASSERT_EQ(options.inputShapes.size(), 1u);
  EXPECT_EQ(options.inputShapes[0].second, (std::vector<int64_t>{-1, 8}));
}

/// A model with one large initializer W (2048 floats, so it is imported as a
/// resource) used by a MatMul.
::onnx::ModelProto modelWithWeight(std::vector<float> &values) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17]>
g (float[1, 64] X) => (float[1, 32] Y) {
  Y = MatMul (X, W)
}
)");
  auto *w = model.mutable_graph()->add_initializer();
  w->set_name("W");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(64);
  w->add_dims(32);
  values.resize(64 * 32);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = 0.25f * float(i % 97) - 3.0f;
  return model;
}

void expectWeight(ModuleOp module, const std::vector<float> &values) {
  tessera::onnx::ConstantOp weight;
  module.walk([&](tessera::onnx::ConstantOp c) { weight = c; });
  ASSERT_TRUE(weight);
  auto resource = dyn_cast<DenseResourceElementsAttr>(weight.getValue());
  ASSERT_TRUE(resource) << "large weights must be resource-backed";
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  ASSERT_TRUE(blob);
  ArrayRef<char> data = blob->getData();
  ASSERT_EQ(data.size(), values.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(data.data(), values.data(), data.size()), 0);
}

TEST(Importer, LargeInitializerIsResourceBacked) {
  std::vector<float> values;
  auto model = modelWithWeight(values);
  auto *w = model.mutable_graph()->mutable_initializer(0);
  w->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                              values.size() * sizeof(float)));
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_TRUE(r.module) << r.error;
  expectWeight(*r.module, values);
}

TEST(Importer, ExternalDataIsReadRelativeToTheModel) {
  std::vector<float> values;
  auto model = modelWithWeight(values);
  auto *w = model.mutable_graph()->mutable_initializer(0);
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto *loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  auto *off = w->add_external_data();
  off->set_key("offset");
  off->set_value("4096");
  TempDir tmp;
  std::string blob(4096, 'x');
  blob.append(reinterpret_cast<const char *>(values.data()),
              values.size() * sizeof(float));
  writeFile(tmp.file("weights.bin"), blob);
  writeFile(tmp.file("model.onnx"), model.SerializeAsString());
  MLIRContext ctx;
  auto r = importFile(ctx, tmp.file("model.onnx"));
  ASSERT_TRUE(r.module) << r.error;
  expectWeight(*r.module, values);

  // Missing and short external files are errors that name the tensor.
  writeFile(tmp.file("weights.bin"), blob.substr(0, 5000));
  MLIRContext ctx2;
  r = importFile(ctx2, tmp.file("model.onnx"));
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("'W'"), std::string::npos) << r.error;
  llvm::sys::fs::remove(tmp.file("weights.bin"));
  MLIRContext ctx3;
  r = importFile(ctx3, tmp.file("model.onnx"));
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("weights.bin"), std::string::npos) << r.error;
}

TEST(Importer, InitializerWithWrongByteCount) {
  std::vector<float> values;
  auto model = modelWithWeight(values);
  model.mutable_graph()->mutable_initializer(0)->set_raw_data("abc");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("'W'"), std::string::npos) << r.error;
}

TEST(Importer, UnsupportedInputType) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17]>
g (string[2] X) => (string[2] Y) {
  Y = Identity (X)
}
)");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("STRING"), std::string::npos) << r.error;
}

TEST(Importer, BoolAndIntConstants) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17]>
g (float[3] X) => (float[3] Y) {
  m = Constant <value = bool[3] {1, 0, 1}> ()
  z = Constant <value = float {0.0}> ()
  Y = Where (m, X, z)
}
)");
  MLIRContext ctx;
  auto r = importBytes(ctx, model.SerializeAsString());
  ASSERT_TRUE(r.module) << r.error;
  SmallVector<bool> mask;
  r.module->walk([&](tessera::onnx::ConstantOp c) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (dense && dense.getElementType().isInteger(1))
      for (bool b : dense.getValues<bool>())
        mask.push_back(b);
  });
  EXPECT_EQ(mask, (SmallVector<bool>{true, false, true}));
}

/// modelWithWeight with W's bytes in an external file at `location`
/// (relative to the model), `offset` bytes in.
::onnx::ModelProto modelWithExternalWeight(std::vector<float> &values,
                                           const std::string &location,
                                           const std::string &offset = "0") {
  auto model = modelWithWeight(values);
  auto *w = model.mutable_graph()->mutable_initializer(0);
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  for (auto [key, value] : {std::pair<const char *, std::string>{"location",
                                                                 location},
                            {"offset", offset}}) {
    auto *entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  }
  return model;
}

std::string floatBytes(const std::vector<float> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(float));
}

/// Writes `model` as DIR/model.onnx and imports it from there.
ImportResult importInDir(MLIRContext &ctx, const TempDir &dir,
                         const ::onnx::ModelProto &model) {
  writeFile(dir.file("model.onnx"), model.SerializeAsString());
  return importFile(ctx, dir.file("model.onnx"));
}

// External data may not leave the model's directory through a symbolic link
// to a directory either ("sub" -> outside, location "sub/w.bin"), while a
// link that stays inside is followed.
TEST(ImporterHostile, ExternalDataThroughSymlinkedDirectory) {
  std::vector<float> values;
  TempDir outside, tmp;
  auto model = modelWithExternalWeight(values, "sub/w.bin");
  writeFile(outside.file("w.bin"), floatBytes(values));
  ASSERT_FALSE(llvm::sys::fs::create_link(outside.dir, tmp.file("sub")));
  MLIRContext ctx;
  auto r = importInDir(ctx, tmp, model);
  ASSERT_FALSE(r.module);
  EXPECT_NE(r.error.find("location 'sub/w.bin' resolves to"), std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("outside the model's directory"), std::string::npos)
      << r.error;

  // The same bytes through a link that stays inside the directory.
  writeFile(tmp.file("real.bin"), floatBytes(values));
  ASSERT_FALSE(llvm::sys::fs::create_link("real.bin", tmp.file("inside.bin")));
  MLIRContext ctx2;
  auto inside =
      importInDir(ctx2, tmp, modelWithExternalWeight(values, "inside.bin"));
  ASSERT_TRUE(inside.module) << inside.error;
  expectWeight(*inside.module, values);
}

// A model whose directory is itself reached through a symbolic link reads its
// external data (containment compares real paths).
TEST(ImporterHostile, ModelDirectoryBehindASymlink) {
  std::vector<float> values;
  TempDir real, links;
  auto model = modelWithExternalWeight(values, "w.bin");
  writeFile(real.file("w.bin"), floatBytes(values));
  std::string linked = links.file("model-dir");
  ASSERT_FALSE(llvm::sys::fs::create_link(real.dir, linked));
  writeFile(real.file("model.onnx"), model.SerializeAsString());
  MLIRContext ctx;
  auto r = importFile(ctx, linked + "/model.onnx");
  ASSERT_TRUE(r.module) << r.error;
  expectWeight(*r.module, values);
}

// Locations that name the directory itself or a subdirectory, and offsets
// whose sum with the length overflows, are errors, not reads.
TEST(ImporterHostile, ExternalDataThatIsNotAFileSlice) {
  std::vector<float> values;
  modelWithWeight(values);
  TempDir tmp;
  ASSERT_FALSE(llvm::sys::fs::create_directory(tmp.file("sub")));
  writeFile(tmp.file("w.bin"), floatBytes(values));
  struct Case {
    std::string location, offset, expected;
  } cases[] = {
      {".", "0", "outside the model's directory"},
      {"sub", "0", "is not a regular file"},
      {"sub/", "0", "is not a regular file"},
      {"w.bin", "9223372036854775807", "too few for 8192 bytes at offset"},
      {"w.bin", "9223372036854775808", "is not a non-negative integer"},
      {"w.bin", "-1", "is not a non-negative integer"},
      {"w.bin", "0x10", "is not a non-negative integer"},
  };
  for (const Case &c : cases) {
    MLIRContext ctx;
    auto r = importInDir(ctx, tmp,
                         modelWithExternalWeight(values, c.location, c.offset));
    EXPECT_FALSE(r.module) << c.location << " @ " << c.offset;
    EXPECT_NE(r.error.find(c.expected), std::string::npos)
        << c.location << " @ " << c.offset << ": " << r.error;
  }
}

// Every single-byte change of a model that uses the range-checked operators
// (Conv, Einsum, Range, Tile, ConstantOfShape, Gemm) imports or is an
// error: a deterministic miniature of the importer fuzz target that runs in
// every build, sanitized or not.
TEST(ImporterHostile, EveryByteMutationIsHandled) {
  auto model = parseText(R"(
<ir_version: 8, opset_import: ["" : 17]>
g (float[1, 2, 5, 5] X, float[2, 3] A) => (float[1, 2, 4, 4] Y, float[2, 2] E, int64[4] R, float[2, 6] T, float[2, 2] Z) {
  W = Constant <value = float[2, 2, 2, 2] {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8}> ()
  Y = Conv <strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0], group = 1> (X, W)
  E = Einsum <equation = "ij,kj->ik"> (A, A)
  s = Constant <value = int64 {0}> ()
  l = Constant <value = int64 {8}> ()
  d = Constant <value = int64 {2}> ()
  R = Range (s, l, d)
  rep = Constant <value = int64[2] {1, 2}> ()
  T = Tile (A, rep)
  shape = Constant <value = int64[2] {2, 2}> ()
  C = ConstantOfShape (shape)
  Z = Gemm <transB = 1> (E, C)
}
)");
  std::string bytes = model.SerializeAsString();
  {
    MLIRContext ctx;
    auto r = importBytes(ctx, bytes);
    ASSERT_TRUE(r.module) << r.error;
  }
  int imported = 0, rejected = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    for (unsigned char value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      if (static_cast<unsigned char>(bytes[i]) == value)
        continue;
      std::string mutated = bytes;
      mutated[i] = static_cast<char>(value);
      MLIRContext ctx;
      ctx.printOpOnDiagnostic(false);
      auto r = importBytes(ctx, mutated);
      if (r.module) {
        EXPECT_TRUE(succeeded(verify(*r.module))) << "byte " << i;
        ++imported;
      } else {
        EXPECT_FALSE(r.error.empty()) << "byte " << i;
        ++rejected;
      }
    }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(imported, 0);
}

} // namespace
