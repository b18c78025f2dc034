#!/usr/bin/python3
"""Numerical check of RNN, GRU and LSTM against ONNX Runtime: every
direction, sequence_lens, initial states, peepholes, clip, GRU's
linear_before_reset, LSTM's input_forget, and activations away from the
defaults (with alpha and beta), over 7 steps. ONNX Runtime refuses layout 1
(batch first), so that is left to the node tests' batchwise cases.

sequence_lens is computed in the graph from the run-time batch, so every
batch entry gets its own length: lens[b] = S - (b mod S).

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)); every
output the node has (Y, Y_h and LSTM's Y_c) is compared.

Usage: recurrent.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

SEQ, INPUT, HIDDEN = 7, 5, 6
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

# name: (op, attributes, optional operands present, sequence_lens)
CASES = {
    "rnn_bidirectional": ("RNN", {"direction": "bidirectional",
                                  "activations": ["Relu", "Tanh"]},
                          ("B", "initial_h"), False),
    "rnn_reverse_lens_clip": ("RNN", {"direction": "reverse", "clip": 0.8},
                              ("B",), True),
    "rnn_activations": ("RNN", {"direction": "bidirectional",
                                "activations": ["ScaledTanh", "Affine"],
                                "activation_alpha": [0.7, 0.5],
                                "activation_beta": [1.3, 0.1]},
                        ("B",), True),
    "gru_linear_before_reset": ("GRU", {"direction": "bidirectional",
                                        "linear_before_reset": 1},
                                ("B", "initial_h"), True),
    "gru_reverse": ("GRU", {"direction": "reverse"}, ("B",), False),
    "gru_forward_lens": ("GRU", {"activations": ["HardSigmoid", "Softsign"],
                                 "activation_alpha": [0.3],
                                 "activation_beta": [0.4]},
                         ("B", "initial_h"), True),
    "lstm_peepholes_bidirectional": ("LSTM", {"direction": "bidirectional"},
                                     ("B", "initial_h", "initial_c", "P"),
                                     True),
    "lstm_input_forget_clip": ("LSTM", {"input_forget": 1, "clip": 1.5},
                               ("B", "initial_c"), True),
    "lstm_reverse_activations": ("LSTM", {"direction": "reverse",
                                          "activations": ["Sigmoid", "Elu",
                                                          "LeakyRelu"],
                                          "activation_alpha": [0.9, 0.2]},
                                 ("P",), False),
}


def build(name, op, attrs, present, with_lens, path):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    elt = TensorProto.FLOAT
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    gh = GATES[op] * HIDDEN
    layout1 = attrs.get("layout", 0) == 1

    def weight(shape, scale=0.4):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = [numpy_helper.from_array(weight((dirs, gh, INPUT)), "W"),
             numpy_helper.from_array(weight((dirs, gh, HIDDEN)), "R")]
    inputs = ["x", "W", "R", "", "", ""] + ([] if op != "LSTM" else ["", ""])
    if "B" in present:
        inits.append(numpy_helper.from_array(weight((dirs, 2 * gh), 0.2), "B"))
        inputs[3] = "B"
    if "P" in present:
        inits.append(numpy_helper.from_array(weight((dirs, 3 * HIDDEN)), "P"))
        inputs[7] = "P"
    graph_inputs, nodes = [], []
    x_dims = ["batch", SEQ, INPUT] if layout1 else [SEQ, "batch", INPUT]
    graph_inputs.append(helper.make_tensor_value_info("x", elt, x_dims))
    state_dims = ["batch", dirs, HIDDEN] if layout1 else [dirs, "batch", HIDDEN]
    for i, state in ((5, "initial_h"), (6, "initial_c")):
        if state in present:
            graph_inputs.append(helper.make_tensor_value_info(state, elt, state_dims))
            inputs[i] = state
    if with_lens:
        # lens[b] = S - (b mod S), from the batch of x.
        batch_axis = 0 if layout1 else 1
        inits += [numpy_helper.from_array(np.array(v, dtype=np.int64), n)
                  for n, v in (("zero", 0), ("one", 1), ("seq", SEQ),
                               ("batch_axis", [batch_axis]))]
        nodes += [
            helper.make_node("Shape", ["x"], ["x_shape"]),
            helper.make_node("Gather", ["x_shape", "batch_axis"], ["batch1"]),
            helper.make_node("Squeeze", ["batch1"], ["batch"]),
            helper.make_node("Range", ["zero", "batch", "one"], ["rows"]),
            helper.make_node("Mod", ["rows", "seq"], ["rows_mod"]),
            helper.make_node("Sub", ["seq", "rows_mod"], ["lens64"]),
            helper.make_node("Cast", ["lens64"], ["lens"], to=TensorProto.INT32),
        ]
        inputs[4] = "lens"
    outputs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    nodes.append(helper.make_node(op, inputs, outputs, name=name,
                                  hidden_size=HIDDEN, **attrs))
    y_dims = (["batch", SEQ, dirs, HIDDEN] if layout1
              else [SEQ, dirs, "batch", HIDDEN])
    graph_outputs = [helper.make_tensor_value_info("Y", elt, y_dims)]
    graph_outputs += [helper.make_tensor_value_info(o, elt, state_dims)
                      for o in outputs[1:]]
    graph = helper.make_graph(nodes, name, graph_inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
