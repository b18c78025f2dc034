"""Runs the dynamic-shapes lit model at several shapes against numpy.

    dynamic_shapes.py check LIB SHAPE...

Each SHAPE is BxS (ids and mask of that shape) or BxS:BxS (ids, then mask).
Prints "SHAPE ok OUTPUT_SHAPE" when tessera-run's output matches numpy to
1e-6, else "SHAPE error: MESSAGE" with tessera-run's error.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

TOK = np.array([0.5, -1.0, 2.0, 0.25, 1.5, 3.0, -0.5, 0.75, 0.1, 0.2, 0.3, 0.4, -2.0, 1.0, 0.0,
                0.5, 0.6, 0.7, -0.8, 0.9, 1.1, 1.2, 1.3, -1.4, 2.1, -2.2, 2.3, 2.4, 0.05, 0.15,
                0.25, 0.35, -0.45, 0.55, 0.65, 0.75, 1.85, -1.95, 0.3, 0.9],
               dtype=np.float32).reshape(10, 4)
POS = (np.arange(16, dtype=np.float32)[:, None] + np.arange(4, dtype=np.float32)[None] / 10)


def dims(text):
    return tuple(int(d) for d in text.split("x"))


def main():
    _, cmd, lib, *shapes = sys.argv
    assert cmd == "check"
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for spec in shapes:
            ids_shape, _, mask_shape = spec.partition(":")
            ids = rng.integers(0, 10, dims(ids_shape)).astype(np.int64)
            mask = (rng.random(dims(mask_shape or ids_shape)) > 0.3).astype(np.float32)
            np.save(os.path.join(tmp, "ids.npy"), ids)
            np.save(os.path.join(tmp, "mask.npy"), mask)
            out = os.path.join(tmp, "out")
            proc = subprocess.run(
                ["tessera-run", lib, "--input", "ids=" + os.path.join(tmp, "ids.npy"),
                 "--input", "mask=" + os.path.join(tmp, "mask.npy"), "--output-dir", out,
                 "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if proc.returncode != 0:
                print(spec, proc.stderr.strip().replace("tessera-run: ", ""))
                continue
            got = np.load(os.path.join(out, "y.npy"))
            want = (TOK[ids] + POS[None, :ids.shape[1]]) * mask[:, :, None]
            err = float(np.abs(got - want).max()) if got.size else 0.0
            print(spec, "ok" if got.shape == want.shape and err <= 1e-6 else
                  "WRONG (max err %g)" % err, got.shape)


if __name__ == "__main__":
    main()
