//===- FuseAttention.cpp - see Passes.td ---------------------------------------------===//
//
// Part of Tessera. Not implemented yet: the pass leaves the IR unchanged.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/Passes.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEATTENTION
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  using FuseAttentionBase::FuseAttentionBase;
  void runOnOperation() override {}
};

} // namespace
} // namespace tessera
