// RUN: tessera-opt %s --tessera-lower-asserts | FileCheck %s

// Each assert becomes a branch to a block that raises the message's code
// and returns zeros; the messages are collected in code order.
// CHECK: module attributes {tessera.error_messages = ["node 'a': first", "node 'b': second"]}
// CHECK: func.func private @tessera_raise(i32)
// CHECK-LABEL: func.func @f(
// CHECK-NOT:     cf.assert
// CHECK:         cf.cond_br %{{.*}}, ^[[REST:.*]], ^[[FAIL:.*]]
// CHECK:       ^[[FAIL]]:
// CHECK:         %[[CODE:.*]] = arith.constant 0 : i32
// CHECK:         call @tessera_raise(%[[CODE]]) : (i32) -> ()
// CHECK:         %[[Z:.*]] = arith.constant 0 : index
// CHECK:         return %[[Z]] : index
// CHECK:       ^[[REST]]:
// CHECK:         cf.cond_br %{{.*}}, ^{{.*}}, ^[[FAIL2:.*]]
// CHECK:       ^[[FAIL2]]:
// CHECK:         arith.constant 1 : i32
func.func @f(%a: index, %b: index) -> index {
  %ok = arith.cmpi eq, %a, %b : index
  cf.assert %ok, "node 'a': first"
  %s = arith.addi %a, %b : index
  %ok2 = arith.cmpi sgt, %s, %a : index
  cf.assert %ok2, "node 'b': second"
  return %s : index
}
