"""Loads libraries compiled by tessera-compile and runs them.

This module needs only the thin runtime (it links libtessera_runtime, no
LLVM): a deployment ships the compiled model and this package.

    model = tessera.runtime.load("model.so")
    session = model.session(threads=2)
    outputs = session.run({"input_ids": ids, "attention_mask": mask})

KV-cache decoders (past_key_values.* inputs, present.* outputs) generate
with the cache bound in place across steps:

    tokens = session.generate(prompt_ids, 32, attention_mask=mask)

Inputs are used without copying when they are C-contiguous arrays of the
model's dtype. Other arrays are copied (non-contiguous, misaligned) or
converted when the conversion loses nothing (int32 into an int64 input, or
int64 values that fit into an int32 input); a conversion that would lose
information is an InvalidArgumentError. Outputs are numpy arrays that own the
memory the runtime allocated for them. `run` releases the GIL, so sessions
run in parallel from Python threads.
"""

import collections
import os

import numpy as np

from . import _runtime
from .errors import InvalidArgumentError

# ONNX TensorProto.DataType number -> (numpy dtype, ONNX Runtime's type name).
# numpy has no bfloat16: such tensors are exchanged as their uint16 bits.
_DTYPES = {
    1: (np.float32, "float"),
    2: (np.uint8, "uint8"),
    3: (np.int8, "int8"),
    4: (np.uint16, "uint16"),
    5: (np.int16, "int16"),
    6: (np.int32, "int32"),
    7: (np.int64, "int64"),
    9: (np.bool_, "bool"),
    10: (np.float16, "float16"),
    11: (np.float64, "double"),
    12: (np.uint32, "uint32"),
    13: (np.uint64, "uint64"),
    16: (np.uint16, "bfloat16"),
}

CachePair = collections.namedtuple("CachePair", "input output axis in_place")
CachePair.__doc__ = """A past input and the present output it becomes after a step
(grown along `axis`); in_place when the library lets one buffer grow."""

Dim = collections.namedtuple("Dim", "name min max")
Dim.__doc__ = """One dimension: its ONNX name ('' when unnamed) and the sizes
the model accepts (min == max for a static dimension; max is None when
unbounded)."""

_UNBOUNDED = 2**63 - 1


class TensorInfo:
    """An input or output of a model.

    name: the ONNX name.
    dtype: its numpy dtype (uint16 for bfloat16).
    type: ONNX Runtime's spelling, e.g. "tensor(float)".
    shape: one entry per dimension, ONNX Runtime style: the size when static,
        the dimension's name (a string) when dynamic and named, else None.
    dims: one Dim per dimension, with its bounds.
    index_range: (min, max) of the token ids the input accepts, or None.
    """

    def __init__(self, desc):
        self.name = desc["name"]
        self.onnx_dtype = desc["dtype"]
        dtype, type_name = _DTYPES.get(self.onnx_dtype, (None, "unknown"))
        self.dtype = np.dtype(dtype) if dtype is not None else None
        self.type = "tensor(%s)" % type_name
        self.dims = tuple(
            Dim(n, lo, None if hi == _UNBOUNDED else hi)
            for n, lo, hi in zip(desc["dim_names"], desc["dim_min"], desc["dim_max"]))
        self.shape = [size if size >= 0 else (dim.name or None)
                      for size, dim in zip(desc["dims"], self.dims)]
        self.index_range = desc["index_range"]

    @property
    def rank(self):
        return len(self.shape)

    def __repr__(self):
        return "TensorInfo(name=%r, type=%r, shape=%r)" % (self.name, self.type, self.shape)


def _lossless(array, want):
    """`array` as dtype `want`, or None when some value would change."""
    if np.can_cast(array.dtype, want, casting="safe"):
        return array.astype(want)
    integral = "biu"
    if array.dtype.kind in integral and want.kind in integral:
        if array.size == 0:
            return array.astype(want)
        lo, hi = (0, 1) if want.kind == "b" else (int(np.iinfo(want).min), int(np.iinfo(want).max))
        if lo <= int(array.min()) and int(array.max()) <= hi:
            return array.astype(want)
    return None


def _as_input(info, value):
    """`value` as a C-contiguous, aligned array of `info.dtype` (the same
    object when it already is one)."""
    want = info.dtype
    if want is None:
        raise InvalidArgumentError("input '%s' has a dtype numpy cannot represent" % info.name, 1)
    if isinstance(value, np.ndarray):
        array = value
        if array.dtype != want:
            converted = _lossless(array, want)
            if converted is None:
                raise InvalidArgumentError(
                    "input '%s' is %s but the model takes %s, and the conversion would "
                    "change some values (convert it yourself: .astype(np.%s))"
                    % (info.name, array.dtype, want, want.name), 1)
            array = converted
    else:
        # Python scalars and lists carry no dtype: they take the model's,
        # as long as integers stay integers.
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise InvalidArgumentError("input '%s' is not an array: %s" % (info.name, e), 1)
        if array.dtype.kind not in "biuf":
            raise InvalidArgumentError("input '%s' is not numeric (%s)" % (info.name, array.dtype), 1)
        if want.kind == "f":
            array = array.astype(want)
        else:
            converted = _lossless(array, want)
            if converted is None:
                raise InvalidArgumentError(
                    "input '%s': these values do not fit %s" % (info.name, want), 1)
            array = converted
    return np.require(array, requirements=("C", "A"))


class Model:
    """A compiled model, loaded. Immutable; any number of sessions may share it."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._native = _runtime.Model(self.path)
        self.inputs = [TensorInfo(self._native.input(i)) for i in range(self._native.num_inputs)]
        self.outputs = [TensorInfo(self._native.output(i)) for i in range(self._native.num_outputs)]
        self._input_index = {t.name: i for i, t in enumerate(self.inputs)}

    @property
    def dims(self):
        """Named dynamic dimensions: {name: Dim(name, min, max)}."""
        named = {}
        for t in self.inputs + self.outputs:
            for size, dim in zip(t.shape, t.dims):
                if isinstance(size, str):
                    named.setdefault(dim.name, dim)
        return named

    @property
    def target_cpu(self):
        """The CPU the code was compiled for (tessera-compile --mcpu)."""
        return self._native.target_cpu

    @property
    def compiler_version(self):
        return self._native.compiler_version

    @property
    def required_cpu_features(self):
        return self._native.required_cpu_features

    @property
    def cache_pairs(self):
        """The past/present pairs of a KV-cache decoder: [CachePair(input,
        output, axis, in_place)] with input/output names. Raises
        InvalidArgumentError saying what was expected when there are none."""
        return [CachePair(self.inputs[i].name, self.outputs[o].name, axis, in_place)
                for i, o, axis, in_place in self._native.cache_pairs()]

    def session(self, threads=0):
        """A new Session with `threads` threads (0: one per hardware thread)."""
        return Session(self, threads)

    def output_shapes(self, input_shapes):
        """{output name: shape} for inputs of these shapes ({name: shape})."""
        specs = self._specs({n: tuple(s) for n, s in input_shapes.items()})
        dims = self._native.output_dims(specs)
        return {t.name: tuple(d) for t, d in zip(self.outputs, dims)}

    def _specs(self, shapes):
        self._check_names(shapes)
        return [(n, self.inputs[self._input_index[n]].onnx_dtype, list(s))
                for n, s in shapes.items()]

    def _native_inputs(self, feeds):
        """[(name, array, dtype)] for the native run functions."""
        out = []
        for name, value in feeds.items():
            info = self.inputs[self._input_index[name]]
            out.append((name, _as_input(info, value), info.onnx_dtype))
        return out

    def _check_names(self, feeds):
        unknown = [n for n in feeds if n not in self._input_index]
        if unknown:
            raise InvalidArgumentError(
                "unknown input '%s'; the model's inputs are: %s"
                % (unknown[0], ", ".join(t.name for t in self.inputs)), 1)
        missing = [t.name for t in self.inputs if t.name not in feeds]
        if missing:
            raise InvalidArgumentError("missing input '%s'" % missing[0], 1)

    def __repr__(self):
        return "Model(%r, inputs=%r, outputs=%r)" % (self.path, self.inputs, self.outputs)


class Session:
    """Runs a Model. Runs on one session are serialised; different sessions
    run concurrently (the GIL is released while the model runs)."""

    def __init__(self, model, threads=0):
        if not isinstance(model, Model):
            raise TypeError("Session needs a tessera.Model, got %s" % type(model).__name__)
        self.model = model
        self._native = _runtime.Session(model._native, int(threads))

    @property
    def num_threads(self):
        return self._native.num_threads

    def run(self, feeds):
        """Runs once. feeds: {input name: array}. Returns {output name: array}."""
        model = self.model
        model._check_names(feeds)
        arrays = self._native.run(model._native_inputs(feeds))
        return {t.name: a for t, a in zip(model.outputs, arrays)}

    def kv_cache(self, capacity):
        """A KVCache for sequences of up to `capacity` positions (past + new)."""
        return KVCache(self, capacity)

    def generate(self, input_ids, max_new_tokens, attention_mask=None, return_logits=False,
                 **inputs):
        """Greedy decoding with a KV-cache decoder: one step on the prompt
        input_ids [batch, length] (rows left-padded and masked by
        attention_mask, when the model takes one), then one step per token.
        position_ids, when the model takes them, count unmasked positions.
        Other inputs (an encoder's cross-attention K/V) go unchanged to every
        step. Returns the new token ids [batch, max_new_tokens] (int64), and
        with return_logits also the logits each came from [batch,
        max_new_tokens, vocab]."""
        model = self.model
        names = {t.name for t in model.inputs}
        ids = np.asarray(input_ids)
        if ids.ndim != 2 or 0 in ids.shape:
            raise InvalidArgumentError("input_ids must be [batch, length], got shape %s"
                                       % (ids.shape,), 1)
        batch, length = ids.shape
        mask = None
        if "attention_mask" in names:
            mask = (np.ones((batch, length), np.int64) if attention_mask is None
                    else np.asarray(attention_mask).astype(np.int64))
        elif attention_mask is not None:
            raise InvalidArgumentError("the model has no input 'attention_mask'", 1)
        cache = self.kv_cache(length + max_new_tokens - 1)
        tokens, logits = [], []
        for _ in range(max_new_tokens):
            feeds = dict(inputs, input_ids=ids)
            if mask is not None:
                feeds["attention_mask"] = mask
            if "position_ids" in names:
                m = mask if mask is not None else np.ones((batch, cache.length + ids.shape[1]))
                positions = np.where(m != 0, np.cumsum(m != 0, axis=1) - 1, 1)
                feeds["position_ids"] = positions[:, -ids.shape[1]:]
            last = cache.run(feeds)["logits"][:, -1, :]
            ids = np.argmax(last, axis=-1).astype(np.int64)[:, None]
            tokens.append(ids[:, 0])
            logits.append(last)
            if mask is not None:
                mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
        tokens = np.stack(tokens, axis=1)
        return (tokens, np.stack(logits, axis=1)) if return_logits else tokens


class KVCache:
    """The KV cache of a decode loop on a Session: each step binds its
    buffers as the model's past inputs and present outputs, so nothing is
    copied between steps (one buffer per pair growing in place when the
    library allows it, else two taking turns)."""

    def __init__(self, session, capacity):
        self.session = session
        self.pairs = session.model.cache_pairs
        self._native = _runtime.KVCache(session._native, int(capacity))
        presents = {p.output for p in self.pairs}
        self._outputs = [t.name for t in session.model.outputs if t.name not in presents]

    @property
    def length(self):
        """Positions held (the next step's past length)."""
        return self._native.length

    @property
    def capacity(self):
        return self._native.capacity

    @property
    def in_place(self):
        return self._native.in_place

    def reset(self):
        """Starts a new sequence (the batch may change)."""
        self._native.reset()

    def run(self, feeds):
        """One step. feeds: every input but the pasts. Returns every output
        but the presents: {name: array}."""
        model = self.session.model
        pasts = {p.input for p in self.pairs}
        bound = [n for n in feeds if n in pasts]
        if bound:
            raise InvalidArgumentError(
                "input '%s' is bound by the KV cache (it is the past of a cache pair); "
                "leave it out" % bound[0], 1)
        model._check_names(dict(feeds, **{n: None for n in pasts}))
        arrays = self._native.run(model._native_inputs(feeds))
        return dict(zip(self._outputs, arrays))


def load(path):
    """Loads a library compiled by tessera-compile (or tessera.compile)."""
    return Model(path)
