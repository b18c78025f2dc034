//===- FuseQKV.cpp - see Passes.td ---------------------------------------------===//
//
// Part of Tessera. Not implemented yet: the pass leaves the IR unchanged.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/Passes.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEQKV
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct FuseQKVPass : impl::FuseQKVBase<FuseQKVPass> {
  using FuseQKVBase::FuseQKVBase;
  void runOnOperation() override {}
};

} // namespace
} // namespace tessera
