// RUN: tessera-opt %s --split-input-file --tessera-copies-to-linalg | FileCheck %s

// A strided memref.copy (which would call MLIR's runtime library) becomes
// linalg.copy, lowered to loops later.
// CHECK-LABEL: func.func @strided
// CHECK: linalg.copy ins(%arg0 : memref<2x3xf32, strided<[6, 1]>>) outs(%arg1 : memref<2x3xf32>)
// CHECK-NOT: memref.copy
func.func @strided(%src: memref<2x3xf32, strided<[6, 1]>>, %dst: memref<2x3xf32>) {
  memref.copy %src, %dst : memref<2x3xf32, strided<[6, 1]>> to memref<2x3xf32>
  return
}

// -----

// Negative: nothing else changes.
// CHECK-LABEL: func.func @no_copy
// CHECK-NEXT: return
func.func @no_copy(%a: memref<4xf32>) {
  return
}
