"""A small inference script written for ONNX Runtime's Python API, unmodified
(test_ort_compat.py changes its import and class name to Tessera's and runs
it).

    ort_script.py MODEL.onnx OUT.npz
"""

import sys

import numpy as np
import onnxruntime


def make_feeds(session, rng):
    feeds = {}
    for inp in session.get_inputs():
        # Dynamic dims come as names (strings) or None: use 2 for each.
        shape = [d if isinstance(d, int) else 2 for d in inp.shape]
        if inp.type == "tensor(int64)":
            feeds[inp.name] = rng.integers(0, 10, size=shape, dtype=np.int64)
        elif inp.type == "tensor(float)":
            feeds[inp.name] = rng.standard_normal(shape).astype(np.float32)
        else:
            raise SystemExit("unsupported input type %s" % inp.type)
    return feeds


def main(model_path, out_path):
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    feeds = make_feeds(session, np.random.default_rng(0))
    outputs = session.run(None, feeds)
    names = [o.name for o in session.get_outputs()]
    first = session.run([names[0]], feeds)[0]
    assert np.array_equal(first, outputs[0])
    for name, value in zip(names, outputs):
        print("%s: %s %s" % (name, value.dtype, value.shape))
    np.savez(out_path, **feeds, **{"out_" + n: v for n, v in zip(names, outputs)})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
