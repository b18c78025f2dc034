// RUN: tessera-opt %s --tessera-fuse --tessera-lower-to-linalg --tessera-cpu-codegen="mcpu=x86-64-v3" --tessera-lower-to-llvm="mcpu=x86-64-v3" | FileCheck %s --implicit-check-not=onnx. --implicit-check-not=linalg. --implicit-check-not=tessera.parallel_launch

// Every stage as its pipeline, from the onnx dialect to the LLVM dialect:
// the graph stays marked as the entry, its parallel loop is a closure passed
// to the runtime's parallel_for, and nothing of the earlier dialects is left.
// CHECK: llvm.mlir.global internal thread_local @tessera.exec_ctx
// CHECK: llvm.func internal @[[BODY:.*]]_trampoline(
// CHECK: llvm.call @[[BODY]](
// CHECK: llvm.func @main_graph({{.*}}) attributes {tessera.entry}
// CHECK: llvm.alloca
// CHECK: llvm.call %{{.*}}(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : !llvm.ptr, (!llvm.ptr, i64, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: llvm.func @main_graph_output_dims({{.*}}) -> {{.*}} attributes {{{.*}}tessera.output_dims}
func.func @main_graph(%x: tensor<16x64xf32> {onnx.name = "x"}) -> (tensor<16x64xf32> {onnx.name = "y"}) attributes {tessera.entry} {
  %w = onnx.Constant {value = dense<0.5> : tensor<64x64xf32>} : tensor<64x64xf32>
  %y = onnx.MatMul %x, %w : (tensor<16x64xf32>, tensor<64x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
