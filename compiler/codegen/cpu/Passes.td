//===- Passes.td - the CPU code generation passes ----------*- tablegen -*-===//

#ifndef TESSERA_CODEGEN_CPU_PASSES
#define TESSERA_CODEGEN_CPU_PASSES

include "mlir/Pass/PassBase.td"

def FuseElementwise : Pass<"tessera-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg.generic ops";
  let description = [{
    A single-use elementwise producer is fused into its elementwise consumer.
    Unlike upstream linalg-fuse-elementwise-ops, reshapes are not propagated
    (that generalises named matmuls into generic contractions, which then
    miss the matmul schedule) and nothing is fused into a reduction (which
    would recompute the producer at every step of the reduction).

    16-bit float ops are computed in f32 by the lowering, each result
    rounded by an arith.truncf marked `tessera.widened_rounding`; in a fused
    body such a rounding that is only widened again (arith.extf back to
    f32) is skipped, so a fused chain rounds once, at its end.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def PackMatmulWeights
    : Pass<"tessera-pack-matmul-weights", "::mlir::func::FuncOp"> {
  let summary = "Pack constant matmul weights into register-tile panels";
  let description = [{
    On tensors, before tessera-vectorize-matmul: a linalg.matmul in f32 with
    static K and N whose weight is a constant (dense or resource) becomes a
    loop over N / tile-n panels; the weight is packed at compile time into
    [N / tile-n * K, tile-n] (panel j is rows [j * K, (j + 1) * K)), so a
    panel is contiguous and read in order by the register tiles. If the
    matmul's only user is an elementwise linalg.generic over its [M, N]
    result (a bias/activation epilogue), that generic is applied per panel
    and marked `tessera.epilogue`; with K blocking (k-block), the last K
    block is split off to be fused with it. When the epilogue reads the
    products of several matmuls of the same A (a gated MLP's gate and
    value), their weights share the panels (tile-n / count columns of each).
    The replaced weights are erased and their resource blobs freed.

    Packed panels, and the constant weight of a matmul left unpacked, are
    stored in f16 (with half-weights) or else bf16 when that type holds
    every value exactly (a float16 or bfloat16 model's weights, widened to
    f32 by the lowering): the matmul then reads 16-bit floats and widens
    them as it multiplies (linalg.matmul's operand cast), and the library
    holds half the bytes.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"tileN", "tile-n", "int64_t", "32",
           "Columns of a panel (the register tile's columns)">,
    Option<"kBlock", "k-block", "int64_t", "0",
           "The K block of tessera-vectorize-matmul (0: none): the last "
           "block of K is split off to be fused with the epilogue">,
    Option<"narrowTileN", "narrow-tile-n", "int64_t", "0",
           "Columns of the panels of a weight with K above narrow-above-k "
           "(0: all panels are tile-n wide), so that a panel stays within "
           "half of L2">,
    Option<"narrowAboveK", "narrow-above-k", "int64_t", "0",
           "K above which panels are narrow-tile-n wide">,
    Option<"halfWeights", "half-weights", "bool", "true",
           "Store weights in f16 where f16 holds them exactly (the target "
           "converts f16 to f32 in hardware: F16C)">,
  ];
}

def VectorizeMatmul : Pass<"tessera-vectorize-matmul", "::mlir::func::FuncOp"> {
  let summary = "Tile matmuls into register tiles and vectorize them";
  let description = [{
    On tensors, for each linalg.matmul with static shapes: tile M and N by a
    register tile (tile-m x tile-n: 6x64 with AVX-512, 6x16 with AVX2;
    peeling the remainder so the main tiles are static), tile K by 1,
    vectorize the tile-m x tile-n x 1 tile, then hoist the C tile out of the
    k loop (it becomes a loop-carried vector) and unroll k by 4.
    This is the schedule recorded in TOOLCHAIN.md. Remainder tiles are
    vectorized with their own static shapes. Batched matmuls are handled as
    one matmul per batch element. Tiles that fit in registers are vectorized
    as they are. The panel matmuls of tessera-pack-matmul-weights are tiled
    the same way; an epilogue it marked (`tessera.epilogue`) is tiled by the
    register tile with its matmul fused in, so it works on the accumulator
    vector after the k loop and the result is written once. The k loops of a
    gated MLP's two products in one register tile become one loop carrying
    every accumulator: act(gate) * value is computed in registers and
    neither product is stored.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::affine::AffineDialect"];
  let options = [
    Option<"tileM", "tile-m", "int64_t", "8", "Rows of the register tile">,
    Option<"tileN", "tile-n", "int64_t", "32", "Columns of the register tile">,
    Option<"unroll", "unroll", "int64_t", "4", "Unroll factor of the k loop">,
    Option<"narrowTileM", "narrow-tile-m", "int64_t", "0",
           "Rows of the register tile of a matmul at most narrow-tile-n "
           "wide (0: tile-m): the narrow panels of a long K">,
    Option<"narrowTileN", "narrow-tile-n", "int64_t", "0",
           "Columns of the narrow register tile (0: none)">,
    Option<"kBlock", "k-block", "int64_t", "0",
           "Cache blocking of K (0: none): a matmul with a longer K is tiled "
           "along K first, so a K-block of a weight panel stays in L1 (256 "
           "measured 2-5% slower than none on Zen 4 with AVX2; 128, 256 and "
           "512 slower on Zen 5 with AVX-512 too); set by --matmul-tile "
           "MxNxK">,
  ];
}

def VectorizeElementwise
    : Pass<"tessera-vectorize-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Vectorize elementwise linalg.generic ops along their last dim";
  let description = [{
    On tensors, after fusion: each all-parallel linalg.generic with static
    shapes whose operands are read in order (identity or broadcast maps) and
    whose body does no index arithmetic is tiled [1, ..., 1, width] (the
    remainder peeled off, so every tile is static) and vectorized. Bodies with
    math ops become vector math, later approximated by polynomials.
    Reductions over the innermost dim (softmax, layer norm) are tiled the same
    way along the reduced dim, with the accumulator carried through the loop.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
  let options = [
    Option<"width", "width", "int64_t", "8", "Vector length (fp32 lanes)">,
  ];
}

def VectorizeTranspose
    : Pass<"tessera-vectorize-transpose", "::mlir::func::FuncOp"> {
  let summary = "Vectorize transposes and gathers into register blocks and row loads";
  let description = [{
    On tensors, after the elementwise vectorizer. Transposes (linalg.transpose
    and all-parallel linalg ops reading an operand through a permuted map)
    are tiled into rows [1, ..., width] when the innermost dim stays innermost,
    else into width x width blocks: transfer_read, vector.transpose (lowered
    here to shuffles: the 16x16 AVX-512 network, a flat shuffle otherwise),
    transfer_write. Gathers (generics reading a table with tensor.extract)
    are tiled along the innermost dim; operands that do not vary along it
    (token ids) become scalars of the tile, so an embedding row is one
    contiguous load; other patterns become vector.gather. Edge tiles of
    dynamic or non-multiple dims are masked: no scalar loops are left.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"width", "width", "int64_t", "16", "Vector length (fp32 lanes)">,
  ];
}

def PrefetchWeightPanels
    : Pass<"tessera-prefetch-weight-panels", "::mlir::func::FuncOp"> {
  let summary = "Prefetch the next packed weight panel across the row tiles";
  let description = [{
    After bufferization. A k loop (one carrying vector contractions) nested
    in a loop over row tiles, which reads a packed weight panel (a static
    [K, N] subview of rows of a global [R, N] constant, rows of whole cache
    lines), prefetches lines of the panel that follows it (the next K rows;
    the last panel prefetches itself): in its i-th iteration of n, in row
    tile t, lines (t * n + i) * p ... + p - 1 (clamped to the panel's last
    line), p chosen so that the row tiles together cover the panel. The
    first row tile of every panel then reads it from cache instead of from
    memory, which it would wait on. A k loop with no loop over several row
    tiles around it (one row tile, or the run-once loop of a remainder tile,
    step 1) takes t = 0 and covers the panel alone: a matrix-vector product
    (a decoder's step) reads each panel once, from memory, and ran 5-7%
    faster so. Locality 3 (all levels) measured 1.5% better than 2 (L2) on
    Zen 5, and one line per iteration better than two.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"assumedRowTiles", "assumed-row-tiles", "int64_t", "16",
           "Row tiles assumed when their count is dynamic">,
    Option<"maxPerIteration", "max-per-iteration", "int64_t", "8",
           "Most prefetches per k-loop iteration">,
  ];
}

def VectorizeCopies
    : Pass<"tessera-vectorize-copies", "::mlir::func::FuncOp"> {
  let summary = "Copy buffers with vector loads and stores";
  let description = [{
    After bufferization. A memref.copy whose innermost dim has unit stride on
    both sides (a tensor inserted into a larger one, such as a KV cache's
    concatenation of past and new positions) becomes loops over its outer
    dims around vector loads and stores of the innermost dim: vectors of
    vector-bits, then one shorter vector for the rest of a static size, one
    masked vector for the rest of a dynamic size. The outermost loop runs
    over the largest static outer dim (a KV cache's heads rather than its
    batch of 1), so that tessera-outline-parallel, run after it, splits a
    large copy over the threads. Other copies are left to
    tessera-copies-to-linalg, whose loops are scalar.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of a vector in bits (the pipeline passes the target's)">,
  ];
}

def OutlineParallel : Pass<"tessera-outline-parallel", "::mlir::ModuleOp"> {
  let summary = "Outline top-level loop nests for the runtime's thread pool";
  let description = [{
    After bufferization, the top-level scf.for loops of the entry function
    (marked `tessera.entry`) that run in parallel are outlined into a private
    function `body(captures..., begin, end)`, which runs iterations
    [begin, end). The loop becomes `tessera.parallel_launch
    @body(captures...) count(n)`, which names its body by symbol;
    tessera-lower-parallel-launch turns it into a call of the runtime's
    parallel_for with a closure of the captures. Which loops
    (shouldParallelize, one function): those with vector contractions (loops
    over weight panels and attention batches), and every other loop nest
    whose iterations write disjoint memory (each write to a buffer from
    outside the loop is addressed by the induction variable) and that writes
    at least 32K elements in all: elementwise chains, norms, softmax,
    transposes, gathers. Smaller loops stay serial.
  }];
  let dependentDialects = ["::tessera::fused::TesseraDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def LowerParallelLaunch
    : Pass<"tessera-lower-parallel-launch", "::mlir::ModuleOp"> {
  let summary = "Lower tessera.parallel_launch to the runtime's parallel_for";
  let description = [{
    After convert-func-to-llvm (the launch's body and caller are llvm.func),
    each `tessera.parallel_launch @body(captures...) count(n)` stores its
    captures (memref descriptors unpacked as for a call) and the current
    execution context into a closure on the stack and calls
    `ctx->parallel_for(ctx, n, trampoline, closure)`. The context is the
    thread-local `tessera.exec_ctx` the entry functions set; the trampoline
    `<body>_trampoline(closure, begin, end)` sets it on the running thread
    around the call of the body.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LowerVectors : Pass<"tessera-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Lower vector contractions and transfers for LLVM (after bufferization)";
  let description = [{
    vector.contract -> outer products -> FMAs; transfers -> 1-D loads and
    stores; broadcasts and shape casts lowered. Followed by
    convert-vector-to-scf with full unrolling to rank 1.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect"];
}

def SplitVectorRows : Pass<"tessera-split-vector-rows", "::mlir::func::FuncOp"> {
  let summary = "Compute n-D elementwise vector chains row by row, where "
                "their rows are used";
  let description = [{
    After the vector lowering and the math approximations, before LLVM: a
    chain of elementwise ops on n-D vectors (a matmul's epilogue on its
    [rows, columns] register tile: bias, GELU, residual) whose rows are
    extracted one by one (to be stored) is rebuilt as 1-D ops per row, at
    the row's extract. LLVM would otherwise lower each n-D op for all rows
    before the next op (the order of the n-D ops), keeping every row of
    every intermediate live: a 6 x 64 GELU epilogue spilled about 180 zmm
    registers. Row by row, a row's chain needs a few registers. Splat
    constants and broadcasts of rows or scalars become 1-D; any other
    operand is read row by row with vector.extract. Chains shorter than
    min-chain ops (a bias or residual sum) are left to LLVM.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"minChain", "min-chain", "int64_t", "8",
           "Elementwise ops a chain needs to be split (shorter ones need few "
           "registers; splitting every residual sum too measured 2% slower "
           "on BERT-base, Zen 5)">,
  ];
}

#endif // TESSERA_CODEGEN_CPU_PASSES
