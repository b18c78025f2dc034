// RUN: tessera-opt %s --split-input-file --verify-diagnostics --tessera-lower-parallel-launch | FileCheck %s

// A launch with a memref and a scalar capture: the memref's descriptor is
// unpacked into the closure (as for a call), followed by the execution
// context read from the thread-local; the closure is allocated in the entry
// block, and ctx->parallel_for (field 2) runs the trampoline over [0, n).
// CHECK:       llvm.mlir.global internal thread_local @tessera.exec_ctx() {{.*}} : !llvm.ptr
// CHECK:       llvm.func @body(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64)
// The trampoline loads the captures and the context, and makes the context
// the thread's own around the call of the body.
// CHECK-LABEL: llvm.func internal @body_trampoline(
// CHECK-SAME:      %[[CL:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK-COUNT-6: llvm.load
// CHECK:         %[[SLOT:.*]] = llvm.mlir.addressof @tessera.exec_ctx
// CHECK:         %[[SAVED:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK:         llvm.store %{{.*}}, %[[SLOT]]
// CHECK:         llvm.call @body({{.*}}, %[[BEGIN]], %[[END]])
// CHECK:         llvm.store %[[SAVED]], %[[SLOT]]
// CHECK-LABEL: llvm.func @graph(
// CHECK-SAME:      %[[S:.*]]: !llvm.struct<{{.*}}>, %[[X:.*]]: f32, %[[N:.*]]: i64)
// CHECK:         %[[CLOSURE:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, ptr, i64, i64, i64, f32, ptr)>
// CHECK:         llvm.br ^bb1
// CHECK:       ^bb1:
// CHECK-NOT:     tessera.parallel_launch
// CHECK-COUNT-6: llvm.store
// CHECK:         %[[SLOT2:.*]] = llvm.mlir.addressof @tessera.exec_ctx
// CHECK:         %[[CTX:.*]] = llvm.load %[[SLOT2]] : !llvm.ptr -> !llvm.ptr
// CHECK:         llvm.store %[[CTX]]
// CHECK:         %[[PF:.*]] = llvm.getelementptr %[[CTX]][0, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(i32, i32, ptr, ptr, ptr, ptr, ptr)>
// CHECK:         %[[FN:.*]] = llvm.load %[[PF]] : !llvm.ptr -> !llvm.ptr
// CHECK:         %[[TR:.*]] = llvm.mlir.addressof @body_trampoline
// CHECK:         llvm.call %[[FN]](%[[CTX]], %[[N]], %[[TR]], %[[CLOSURE]])
llvm.func @body(%p0: !llvm.ptr, %p1: !llvm.ptr, %off: i64, %size: i64, %stride: i64, %x: f32, %begin: i64, %end: i64) {
  llvm.return
}
llvm.func @graph(%s: !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, %x: f32, %n: i64) {
  llvm.br ^bb1
^bb1:
  %m = builtin.unrealized_conversion_cast %s : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<4xf32>
  %count = builtin.unrealized_conversion_cast %n : i64 to index
  tessera.parallel_launch @body(%m, %x) count(%count) : memref<4xf32>, f32
  llvm.return
}

// -----

// The body must take the unpacked captures and the range.
llvm.func @body(%x: f32) {
  llvm.return
}
llvm.func @graph(%x: f32, %n: i64) {
  %count = builtin.unrealized_conversion_cast %n : i64 to index
  // expected-error @+1 {{body @body takes 1 arguments, the launch passes 1 captures and a range}}
  tessera.parallel_launch @body(%x) count(%count) : f32
  llvm.return
}
