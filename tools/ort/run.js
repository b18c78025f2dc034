#!/usr/bin/env node
// ONNX Runtime (CPU) as Tessera's reference oracle and benchmark peer.
//
//   node tools/ort/run.js MODEL.onnx --input NAME=FILE.npy ... [--input FILE.npy ...]
//        [--output-dir DIR] [--threads N] [--bench N] [--quiet] [--generate N [--profile]]
//        [--free-dim NAME=N ...]
//
// Inputs are .npy files (little-endian, C order): f2 f4 f8 i1 i2 i4 i8 u1 u2
// u4 u8 b1. Without NAME=, the i-th --input is the model's i-th input. Each
// output is written to DIR/NAME.npy, with '/' and ':' in NAME replaced by '_'
// (as tessera-run does). With --bench N, runs once to warm up, then N timed
// runs, and prints
//   latency: median X ms, min Y ms, max Z ms (N runs, T threads)
// The session uses intraOpNumThreads = --threads (default 1),
// interOpNumThreads 1, sequential execution and graphOptimizationLevel 'all'.
// With --generate N (a KV-cache decoder: past_key_values.X inputs, present.X
// outputs), runs the greedy loop of `tessera-run --generate`: one step on the
// prompt input_ids with empty pasts, then one step per token fed the previous
// argmax and the previous presents; attention_mask (all ones unless given)
// gains a column of ones per step, position_ids count unmasked positions. It
// prints the tokens, the prefill time and ms/token (of session.run, which
// copies every output into JavaScript), and with --output-dir writes
// tokens.npy [batch, N] (int64) and logits.npy [batch, N, vocab]. With
// --bench R, the loop runs once untimed, then R times (medians). With
// --profile, ORT's profiler is on and the in-engine times (its model_run
// events, without the binding's output copies) are printed too:
//   in-engine (ORT profile model_run): prefill X ms, decode Y ms/token
// Any error prints `ort-run: error: ...` and exits 1.
'use strict';

const fs = require('fs');
const path = require('path');

const PROG = 'ort-run';

class UsageError extends Error {}

function fail(message) {
  process.stderr.write(`${PROG}: error: ${message}\n`);
  process.exit(1);
}

// onnxruntime-node lives next to this script, whatever the cwd is.
function loadOrt() {
  const dir = path.join(__dirname, 'node_modules', 'onnxruntime-node');
  try {
    return require(dir);
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${dir} (run scripts/setup.sh): ${e.message}`);
  }
}

// ---------------------------------------------------------------- NPY I/O

// numpy descr (without byte order) <-> ONNX Runtime tensor type.
const DTYPES = {
  f2: { ort: 'float16', size: 2, array: Uint16Array },
  f4: { ort: 'float32', size: 4, array: Float32Array },
  f8: { ort: 'float64', size: 8, array: Float64Array },
  i1: { ort: 'int8', size: 1, array: Int8Array },
  i2: { ort: 'int16', size: 2, array: Int16Array },
  i4: { ort: 'int32', size: 4, array: Int32Array },
  i8: { ort: 'int64', size: 8, array: BigInt64Array },
  u1: { ort: 'uint8', size: 1, array: Uint8Array },
  u2: { ort: 'uint16', size: 2, array: Uint16Array },
  u4: { ort: 'uint32', size: 4, array: Uint32Array },
  u8: { ort: 'uint64', size: 8, array: BigUint64Array },
  b1: { ort: 'bool', size: 1, array: Uint8Array },
};
const ORT_TO_DESCR = {};
for (const [k, v] of Object.entries(DTYPES)) ORT_TO_DESCR[v.ort] = k;

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read '${file}': ${e.message}`);
  }
  const bad = (why) => new Error(`'${file}' is not a supported .npy file: ${why}`);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw bad('missing the \\x93NUMPY magic');
  const major = buf[6];
  let headerLen;
  let start;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw bad('truncated header');
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw bad(`format version ${major}`);
  }
  if (start + headerLen > buf.length) throw bad('truncated header');
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descrM = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortranM = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrM || !fortranM || !shapeM) throw bad(`cannot parse header ${header.trim()}`);
  if (fortranM[1] === 'True') throw bad('Fortran order (write it C-contiguous)');
  const descr = descrM[1];
  const order = descr[0];
  const code = descr.slice(1);
  const dt = DTYPES[code];
  if (!dt || !'<|='.includes(order) || (order === '|' && dt.size !== 1))
    throw bad(`dtype '${descr}' (supported: little-endian ${Object.keys(DTYPES).join(' ')})`);
  const dims = shapeM[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) throw bad(`bad shape entry '${s}'`);
      return Number(s);
    });
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * dt.size;
  if (buf.length - offset !== bytes)
    throw bad(`expected ${bytes} data bytes for shape (${dims.join(', ')}), found ${buf.length - offset}`);
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(bytes);
  new Uint8Array(ab).set(buf.subarray(offset, offset + bytes));
  return { type: dt.ort, dims, data: new dt.array(ab) };
}

function npyBytes(descr, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so that the data starts at a multiple of 64 bytes.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), payload]);
}

// A float16 bit pattern as a number.
function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// Elements [begin, end) of a float32 or float16 tensor as a Float32Array
// (which holds every float16 exactly).
function floatsOf(tensor, begin, end) {
  if (tensor.type === 'float32') return tensor.data.slice(begin, end);
  if (tensor.type !== 'float16') throw new Error(`logits of type '${tensor.type}': expected float32 or float16`);
  const d = tensor.data;
  const bits = d instanceof Uint16Array ? d : new Uint16Array(d.buffer, d.byteOffset, d.length);
  const out = new Float32Array(end - begin);
  for (let i = begin; i < end; ++i) out[i - begin] = halfToNumber(bits[i]);
  return out;
}

function writeNpy(file, tensor) {
  const code = ORT_TO_DESCR[tensor.type];
  if (!code) throw new Error(`cannot write an output of type '${tensor.type}' as .npy`);
  const order = DTYPES[code].size === 1 ? '|' : '<';
  let data = tensor.data;
  if (tensor.type === 'float16' && !(data instanceof Uint16Array))
    data = new Uint16Array(data.buffer, data.byteOffset, data.length); // Float16Array
  fs.writeFileSync(file, npyBytes(order + code, tensor.dims, data));
}

// ---------------------------------------------------------------- CLI

function parseArgs(argv) {
  const args = { model: null, inputs: [], outputDir: null, threads: 1, bench: 0, quiet: false,
                 generate: 0, profile: false, freeDims: {} };
  const intArg = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min)
      throw new UsageError(`${name} expects an integer >= ${min}, got '${v === undefined ? '' : v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; ++i) {
    let a = argv[i];
    let value;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const takes = ['--input', '--output-dir', '--threads', '--bench', '--generate', '--free-dim'];
    if (eq > 0 && takes.includes(a.slice(0, eq))) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    } else if (takes.includes(a)) {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      value = argv[++i];
    }
    switch (a) {
      case '--input': args.inputs.push(value); break;
      case '--output-dir': args.outputDir = value; break;
      case '--threads': args.threads = intArg('--threads', value, 1); break;
      case '--bench': args.bench = intArg('--bench', value, 1); break;
      case '--generate': args.generate = intArg('--generate', value, 1); break;
      case '--free-dim': {
        // NAME=N pins the model's dimension named NAME (freeDimensionOverrides),
        // as Tessera pins it with --dim, so both optimise for the same shape.
        const at = value.lastIndexOf('=');
        if (at <= 0) throw new UsageError(`--free-dim expects NAME=N, got '${value}'`);
        args.freeDims[value.slice(0, at)] = intArg('--free-dim', value.slice(at + 1), 0);
        break;
      }
      case '--quiet': args.quiet = true; break;
      case '--profile': args.profile = true; break;
      case '-h':
      case '--help':
        process.stdout.write(
            'usage: node run.js MODEL.onnx --input [NAME=]FILE.npy ... [--output-dir DIR]\n' +
            '                   [--threads N] [--bench N [--profile]] [--quiet]\n' +
            '                   [--generate N [--profile]]\n' +
            '                   [--free-dim NAME=N ...]\n');
        process.exit(0);
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
        if (args.model) throw new UsageError(`unexpected argument '${a}' (model is '${args.model}')`);
        args.model = a;
    }
  }
  if (!args.model) throw new UsageError('no model given');
  if (args.profile && !args.generate && !args.bench)
    throw new UsageError('--profile needs --generate or --bench');
  return args;
}

// Binds each --input to a model input name. "NAME=FILE" binds by name when
// NAME is an input of the model; otherwise the i-th --input is the model's
// i-th input (as in tessera-run).
function bindInputs(specs, inputNames) {
  const feeds = new Map();
  for (const [index, spec] of specs.entries()) {
    let name = null;
    let file = spec;
    const eq = spec.indexOf('=');
    if (eq > 0 && inputNames.includes(spec.slice(0, eq))) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
    } else if (eq > 0 && !fs.existsSync(spec)) {
      throw new Error(`--input ${spec}: '${spec.slice(0, eq)}' is not an input of the model ` +
                      `(inputs: ${inputNames.join(', ')})`);
    } else {
      if (index >= inputNames.length)
        throw new Error(`--input ${spec}: input #${index + 1} given, but the model has ` +
                        `${inputNames.length} input(s)`);
      name = inputNames[index];
    }
    if (feeds.has(name)) throw new Error(`input '${name}' given twice`);
    feeds.set(name, file);
  }
  const missing = inputNames.filter((n) => !feeds.has(n));
  if (missing.length) throw new Error(`missing input(s): ${missing.join(', ')}`);
  return feeds;
}

// ---------------------------------------------------------------- generation

// The present output of a past input (Optimum's past_key_values.X ->
// present.X, pastX -> presentX), or null; cross-attention caches
// (past_key_values.N.encoder.*) are ordinary inputs.
function presentName(name) {
  if (name.includes('.encoder.')) return null;
  if (name.startsWith('past_key_values')) return 'present' + name.slice('past_key_values'.length);
  if (name.startsWith('past')) return 'present' + name.slice(4);
  return null;
}

// HF position ids of the last `s` columns of a [b, total] mask.
function positionsOf(mask, b, total, s) {
  const pos = [];
  for (let i = 0; i < b; ++i) {
    let seen = 0;
    for (let j = 0; j < total; ++j) {
      const m = Number(mask[i * total + j]);
      seen += m !== 0;
      if (j >= total - s) pos.push(m ? seen - 1 : 1);
    }
  }
  return pos;
}

function intTensor(ort, type, values, dims) {
  const data = type === 'int64' ? BigInt64Array.from(values.map(BigInt))
             : type === 'int32' ? Int32Array.from(values)
             : type === 'float32' ? Float32Array.from(values)
             : Uint8Array.from(values);
  return new ort.Tensor(type, data, dims);
}

// One greedy loop; returns its tokens and logits ([token][row]) and times.
async function decodeOnce(ort, session, args, given, meta) {
  const [b, s0] = given.input_ids.dims;
  let ids = Array.from(given.input_ids.data, Number);
  let mask = given.attention_mask ? Array.from(given.attention_mask.data, Number)
                                  : new Array(b * s0).fill(1);
  const feeds = {};
  for (const [name, t] of Object.entries(given))
    if (name !== 'input_ids' && name !== 'attention_mask')
      feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  const batchName = meta.get('input_ids').shape[0];
  for (const name of session.inputNames) {
    if (!presentName(name)) continue;
    const dims = meta.get(name).shape.map((d) => (typeof d === 'number' ? d : d === batchName ? b : 0));
    // Empty, of the past's own type (float32 or float16).
    const type = meta.get(name).type;
    feeds[name] = new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
  }
  const tokens = [], logits = [];
  let vocab = 0, prefillMs = 0, decodeMs = 0, total = s0;
  for (let t = 0; t < args.generate; ++t) {
    const s = t === 0 ? s0 : 1;
    feeds.input_ids = intTensor(ort, meta.get('input_ids').type, ids, [b, s]);
    if (meta.has('attention_mask'))
      feeds.attention_mask = intTensor(ort, meta.get('attention_mask').type, mask, [b, total]);
    if (meta.has('position_ids'))
      feeds.position_ids = intTensor(ort, meta.get('position_ids').type,
                                     positionsOf(mask, b, total, s), [b, s]);
    const t0 = process.hrtime.bigint();
    const out = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (t === 0) prefillMs = ms; else decodeMs += ms;
    const l = out.logits;
    vocab = l.dims[2];
    ids = [];
    for (let i = 0; i < b; ++i) {
      const row = floatsOf(l, ((i * s) + s - 1) * vocab, ((i * s) + s) * vocab);
      let best = 0;
      for (let v = 1; v < vocab; ++v) if (row[v] > row[best]) best = v;
      ids.push(best);
      tokens.push(best);
      logits.push(row);
    }
    for (const name of session.inputNames)
      if (presentName(name)) feeds[name] = out[presentName(name)];
    const next = [];
    for (let i = 0; i < b; ++i) next.push(...mask.slice(i * total, (i + 1) * total), 1);
    mask = next;
    total += 1;
  }
  return { b, s0, vocab, tokens, logits, prefillMs,
           decodeMs: args.generate > 1 ? decodeMs / (args.generate - 1) : 0 };
}

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// Ends ORT's profile and returns the durations (ms) of its model_run events,
// one per session.run, in order.
function modelRuns(session, args) {
  session.endProfiling();
  const dir = path.dirname(args.profilePrefix), base = path.basename(args.profilePrefix);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(base + '_') && f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one ORT profile ${args.profilePrefix}_*.json`);
  const file = path.join(dir, files[0]);
  const runs = JSON.parse(fs.readFileSync(file, 'utf8'))
    .filter((e) => e.name === 'model_run').map((e) => e.dur / 1e3);
  fs.unlinkSync(file);
  return runs;
}

// The model_run events of --generate (one per step, loops in order; the
// untimed loop is dropped when --bench timed more): the medians over loops
// of the prefill step and of the mean decode step, in ms.
function profiledTimes(session, args) {
  const runs = modelRuns(session, args);
  const n = args.generate, loops = runs.length / n;
  if (!Number.isInteger(loops)) throw new Error(`ORT profile: ${runs.length} model_run events`);
  const prefill = [], decode = [];
  for (let l = args.bench ? 1 : 0; l < loops; ++l) {
    const steps = runs.slice(l * n, (l + 1) * n);
    prefill.push(steps[0]);
    decode.push(n > 1 ? steps.slice(1).reduce((x, y) => x + y, 0) / (n - 1) : 0);
  }
  return { prefillMs: median(prefill), decodeMs: median(decode) };
}

// --generate: the loop once (with --bench R: then R timed loops, medians).
async function generate(ort, session, args) {
  const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const given = {};
  for (const spec of args.inputs) {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq);
    if (eq <= 0 || !meta.has(name) || presentName(name))
      throw new Error(`--input ${spec}: expected NAME=FILE for an input other than the pasts`);
    given[name] = readNpy(spec.slice(eq + 1));
  }
  if (!given.input_ids || given.input_ids.dims.length !== 2)
    throw new Error('--generate needs input_ids [batch, length]');
  const run = await decodeOnce(ort, session, args, given, meta);
  const { b, s0, vocab, tokens, logits } = run;
  let { prefillMs, decodeMs } = run;
  if (args.bench) {
    const prefill = [], decode = [];
    for (let r = 0; r < args.bench; ++r) {
      const timed = await decodeOnce(ort, session, args, given, meta);
      prefill.push(timed.prefillMs);
      decode.push(timed.decodeMs);
    }
    prefillMs = median(prefill);
    decodeMs = median(decode);
  }
  const runs = args.bench ? `, median of ${args.bench} runs` : '';
  // [token, batch] -> [batch, token]
  const n = args.generate;
  const ids64 = new BigInt64Array(b * n), all = new Float32Array(b * n * vocab);
  for (let t = 0; t < n; ++t)
    for (let i = 0; i < b; ++i) {
      ids64[i * n + t] = BigInt(tokens[t * b + i]);
      all.set(logits[t * b + i], (i * n + t) * vocab);
    }
  if (!args.quiet)
    for (let i = 0; i < b; ++i)
      process.stdout.write(`tokens[${i}]: ${Array.from(ids64.subarray(i * n, (i + 1) * n)).join(' ')}\n`);
  process.stdout.write(`prefill: ${fmt(prefillMs)} ms (batch ${b}, ${s0} tokens${runs})\n`);
  if (n > 1)
    process.stdout.write(`decode: ${fmt(decodeMs)} ms/token (${n - 1} steps, batch ${b}, ` +
                         `${args.threads} threads${runs})\n`);
  if (args.profile) {
    const p = profiledTimes(session, args);
    process.stdout.write(`in-engine (ORT profile model_run): prefill ${fmt(p.prefillMs)} ms, ` +
                         `decode ${fmt(p.decodeMs)} ms/token\n`);
  }
  if (args.outputDir) {
    fs.mkdirSync(args.outputDir, { recursive: true });
    writeNpy(path.join(args.outputDir, 'tokens.npy'), { type: 'int64', dims: [b, n], data: ids64 });
    writeNpy(path.join(args.outputDir, 'logits.npy'), { type: 'float32', dims: [b, n, vocab], data: all });
  }
}

const sanitize = (name) => name.replace(/[/:]/g, '_');

function fmt(ms) {
  return ms.toFixed(3);
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    fail(e.message);
  }
  args.profilePrefix = path.join(require('os').tmpdir(), `ort-run-profile-${process.pid}`);
  const ort = loadOrt();
  ort.env.logLevel = 'error';

  let session;
  try {
    session = await ort.InferenceSession.create(args.model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: args.threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      ...(Object.keys(args.freeDims).length ? { freeDimensionOverrides: args.freeDims } : {}),
      ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profilePrefix } : {}),
    });
  } catch (e) {
    fail(`cannot load '${args.model}': ${e.message}`);
  }

  if (args.generate) {
    try {
      await generate(ort, session, args);
    } catch (e) {
      fail(`--generate: ${e.message}`);
    }
    return;
  }

  const feeds = {};
  try {
    for (const [name, file] of bindInputs(args.inputs, session.inputNames)) {
      const t = readNpy(file);
      feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
  } catch (e) {
    fail(e.message);
  }

  let results;
  try {
    results = await session.run(feeds);
    if (args.bench > 0) {
      const times = [];
      for (let i = 0; i < args.bench; ++i) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const n = times.length;
      process.stdout.write(`latency: median ${fmt(median(times))} ms, min ${
                               fmt(Math.min(...times))} ms, ` +
                           `max ${fmt(Math.max(...times))} ms (${n} runs, ${
                               args.threads} threads)\n` +
                           `times: ${times.map(fmt).join(' ')}\n`);
      if (args.profile) {
        // The first model_run is the warm-up.
        const runs = modelRuns(session, args).slice(1);
        if (runs.length !== n)
          throw new Error(`ORT profile: ${runs.length + 1} model_run events`);
        const copy = median(times.map((t, i) => t - runs[i]));
        process.stdout.write(`output copy: median ${fmt(copy)} ms ` +
                             '(session.run minus ORT\'s profile model_run)\n');
      }
    }
  } catch (e) {
    fail(`run failed: ${e.message}`);
  }

  try {
    if (args.outputDir) fs.mkdirSync(args.outputDir, { recursive: true });
    for (const name of session.outputNames) {
      const t = results[name];
      if (args.outputDir) writeNpy(path.join(args.outputDir, sanitize(name) + '.npy'), t);
      if (!args.quiet && !args.bench)
        process.stdout.write(`output ${name}: ${t.type} [${t.dims.join('x')}]\n`);
    }
  } catch (e) {
    fail(e.message);
  }
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
