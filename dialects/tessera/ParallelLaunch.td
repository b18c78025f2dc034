//===- ParallelLaunch.td - tessera.parallel_launch ---------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_PARALLEL_LAUNCH
#define TESSERA_TESSERA_PARALLEL_LAUNCH

include "dialects/tessera/TesseraBase.td"
include "mlir/IR/SymbolInterfaces.td"

// Not a Tessera_Op: it writes memory (through its body), so it is not Pure.
def Tessera_ParallelLaunchOp
    : Op<Tessera_Dialect, "parallel_launch",
         [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
          MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "run a loop body over [0, count) on the runtime's thread pool";
  let description = [{
    Calls the function `body(captures..., begin, end)` on disjoint ranges
    [begin, end) that together cover [0, `count`), possibly at the same time
    on several threads, and returns when all have returned. The body is a
    loop whose iterations write disjoint memory (tessera-outline-parallel
    makes both); tessera-lower-parallel-launch lowers the launch to the
    runtime's parallel_for with the captures in a closure.

    ```mlir
    tessera.parallel_launch @body(%a, %c) count(%n) : memref<4x16xf32>, memref<4x16xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$body, Variadic<AnyType>:$captures,
                       Index:$count);
  let assemblyFormat = [{
    $body `(` $captures `)` `count` `(` $count `)` attr-dict
    (`:` type($captures)^)?
  }];
}

#endif // TESSERA_TESSERA_PARALLEL_LAUNCH
