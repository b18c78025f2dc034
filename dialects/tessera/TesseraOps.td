//===- TesseraOps.td - the tessera dialect's ops -----------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_OPS
#define TESSERA_TESSERA_OPS

include "dialects/tessera/TesseraBase.td"
include "dialects/tessera/MatMul.td"
include "dialects/tessera/AddLayerNorm.td"
include "dialects/tessera/QKVProjection.td"
include "dialects/tessera/Attention.td"
include "dialects/tessera/ParallelLaunch.td"

#endif // TESSERA_TESSERA_OPS
