//===- tessera-run.cpp - run a compiled model on .npy/.pb inputs ----------===//
//
// Part of Tessera.
//
//   tessera-run MODEL.so --input [NAME=]FILE ... [--output-dir DIR]
//               [--threads N] [--bench N] [--quiet] [--generate N]
//
// Links only the runtime and protobuf (for ONNX TensorProto files), never
// LLVM, so the argument parser is a small hand-written one. Every failure
// prints one `tessera-run: error: ...` line and exits 1.
//
//===----------------------------------------------------------------------===//

#include "Floats.h"
#include "Generate.h"
#include "tessera/runtime.hpp"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using tessera::run::bf16ToFloat;
using tessera::run::halfToFloat;

/// Any failure: main prints it as one error line and exits 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char *const kUsage =
    "usage: tessera-run MODEL.so --input [NAME=]FILE ... [--output-dir DIR]\n"
    "                   [--threads N] [--bench N] [--quiet]\n"
    "       tessera-run MODEL.so --generate N --input input_ids=PROMPT.npy\n"
    "                   [--input attention_mask=MASK.npy] [--output-dir DIR]\n"
    "                   [--threads N] [--bench R] [--quiet]\n"
    "       tessera-run MODEL.so --describe\n"
    "\n"
    "Runs a model library built by tessera-compile.\n"
    "\n"
    "  --input [NAME=]FILE  an input from a .npy file (v1-v3, little-endian,\n"
    "                       C order) or an ONNX TensorProto .pb file; without\n"
    "                       NAME= the i-th --input is the model's i-th input;\n"
    "                       a bfloat16 input also takes uint16 bit patterns\n"
    "                       (ONNX's test data) or float32 (rounded to nearest\n"
    "                       even)\n"
    "  --output-dir DIR     write each output to DIR/NAME.npy ('/' and ':' in\n"
    "                       names become '_'; bfloat16 is written as float32)\n"
    "  --threads N          threads per run (default 0: all cores)\n"
    "  --bench N            after the first run, time N more runs (into the\n"
    "                       first run's output buffers) and print their\n"
    "                       median, min and max latency, then each time\n"
    "  --quiet              do not print the outputs\n"
    "  --generate N         greedy decoding of N tokens with a KV-cache\n"
    "                       decoder (past_key_values.* inputs, present.*\n"
    "                       outputs): one step on the prompt input_ids\n"
    "                       [batch, length] (left padding masked by\n"
    "                       attention_mask), then one step per token with\n"
    "                       the cache bound in place; prints the token ids,\n"
    "                       the prefill time and ms/token, and with\n"
    "                       --output-dir writes tokens.npy [batch, N] and\n"
    "                       logits.npy [batch, N, vocab] (float32 for\n"
    "                       float16 and bfloat16 logits too); with --bench R,\n"
    "                       one untimed loop, then R timed ones (medians)\n"
    "                       into the logits buffers the first one sized,\n"
    "                       each of which must choose the same tokens\n"
    "  --describe           print the model's inputs and outputs (dtypes, "
    "dims\n"
    "                       with their names and the sizes the model takes)\n"
    "                       and exit\n"
    "  --help               print this help\n";

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

/// Set when this program has the model linked in (--emit=exe).
const TesseraModelDesc *embeddedModel = nullptr;

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::string outputDir;
  int32_t threads = 0;
  int64_t bench = 0;
  int64_t generate = 0;
  bool quiet = false;
  bool describe = false;
  bool help = false;
};

/// A whole decimal number in [min, max]; no sign, spaces or suffixes.
int64_t parseCount(const std::string &flag, const std::string &text,
                   int64_t min, int64_t max) {
  auto bad = [&] {
    return Failure("option '" + flag + "' expects a whole number from " +
                   std::to_string(min) + " to " + std::to_string(max) +
                   ", got '" + text + "'");
  };
  if (text.empty() || text.size() > 18)
    throw bad();
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      throw bad();
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max)
    throw bad();
  return value;
}

Options parseArgs(int argc, char **argv) {
  Options opts;
  bool threadsSeen = false, benchSeen = false, outputDirSeen = false;
  bool generateSeen = false;
  bool onlyPositional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (onlyPositional || arg.size() < 2 || arg[0] != '-') {
      if (embeddedModel)
        throw Failure("unexpected argument '" + arg +
                      "' (the model is built into this program; inputs need "
                      "--input)");
      if (!opts.model.empty())
        throw Failure("unexpected argument '" + arg + "' (the model is '" +
                      opts.model + "'; inputs need --input)");
      opts.model = arg;
      continue;
    }
    if (arg == "--") {
      onlyPositional = true;
      continue;
    }
    // Accept both "--flag value" and "--flag=value".
    std::string flag = arg;
    std::optional<std::string> inlineValue;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      inlineValue = arg.substr(eq + 1);
    }
    auto value = [&]() -> std::string {
      if (inlineValue)
        return *inlineValue;
      if (i + 1 >= argc)
        throw Failure("option '" + flag + "' needs a value");
      return argv[++i];
    };
    auto once = [&](bool &seen) {
      if (seen)
        throw Failure("option '" + flag + "' is given more than once");
      seen = true;
    };
    if (flag == "--help" || flag == "-h") {
      if (inlineValue)
        throw Failure("option '" + flag + "' takes no value");
      opts.help = true;
    } else if (flag == "--quiet") {
      if (inlineValue)
        throw Failure("option '" + flag + "' takes no value");
      opts.quiet = true;
    } else if (flag == "--describe") {
      if (inlineValue)
        throw Failure("option '" + flag + "' takes no value");
      opts.describe = true;
    } else if (flag == "--input") {
      opts.inputs.push_back(value());
      if (opts.inputs.back().empty())
        throw Failure("option '--input' needs a file");
    } else if (flag == "--output-dir") {
      once(outputDirSeen);
      opts.outputDir = value();
      if (opts.outputDir.empty())
        throw Failure("option '--output-dir' needs a directory");
    } else if (flag == "--threads") {
      once(threadsSeen);
      opts.threads = static_cast<int32_t>(parseCount(flag, value(), 0, 1024));
    } else if (flag == "--bench") {
      once(benchSeen);
      opts.bench = parseCount(flag, value(), 1, 1000000);
    } else if (flag == "--generate") {
      once(generateSeen);
      opts.generate = parseCount(flag, value(), 1, 1000000);
    } else {
      throw Failure("unknown option '" + flag + "' (see --help)");
    }
  }
  if (opts.describe && !opts.inputs.empty())
    throw Failure("--describe takes no --input");
  if (!opts.help && opts.model.empty() && !embeddedModel)
    throw Failure("no model given (usage: tessera-run MODEL.so --input "
                  "[NAME=]FILE ...; see --help)");
  return opts;
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

/// A dense, 64-byte aligned tensor read from a file.
struct HostTensor {
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  size_t bytes = 0;
  std::unique_ptr<void, FreeDeleter> data;

  void allocate(size_t n) {
    bytes = n;
    size_t capacity = std::max<size_t>(64, (n + 63) / 64 * 64);
    data.reset(std::aligned_alloc(64, capacity));
    if (!data)
      throw Failure("out of memory allocating " + std::to_string(n) + " bytes");
    std::memset(data.get(), 0, capacity);
  }
  char *bytesPtr() { return static_cast<char *>(data.get()); }
};

std::string formatDims(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// Byte size of a shape, or a Failure mentioning `what` on overflow or a
/// negative dimension.
size_t checkedByteSize(const std::vector<int64_t> &dims, size_t elemSize,
                       const std::string &what) {
  uint64_t n = elemSize;
  for (int64_t d : dims) {
    if (d < 0)
      throw Failure(what + ": negative dimension in shape " + formatDims(dims));
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) ||
        n > (uint64_t(1) << 48))
      throw Failure(what + ": shape " + formatDims(dims) + " is too large");
  }
  return static_cast<size_t>(n);
}

std::string readFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Failure("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Failure("cannot read '" + path + "': not a regular file");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, &data[done], data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      throw Failure("cannot read '" + path + "': " +
                    (n == 0 ? "unexpected end of file" : std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return data;
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

const char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicLen = 6;

bool isNpy(const std::string &data) {
  return data.compare(0, kNpyMagicLen, kNpyMagic, kNpyMagicLen) == 0;
}

/// The Python dict literal of an .npy header, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class NpyHeaderParser {
public:
  NpyHeaderParser(const std::string &text, const std::string &path)
      : s_(text), path_(path) {}

  void parse(std::string &descr, bool &fortran, std::vector<int64_t> &shape) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipSpace();
    expect('{');
    for (;;) {
      skipSpace();
      if (peek() == '}')
        break;
      std::string key = parseString();
      skipSpace();
      expect(':');
      skipSpace();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          fail("only simple dtypes are supported, not structured ones");
        descr = parseString();
        haveDescr = true;
      } else if (key == "fortran_order") {
        fortran = parseBool();
        haveFortran = true;
      } else if (key == "shape") {
        shape = parseTuple();
        haveShape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skipSpace();
      if (peek() != '}')
        fail("expected ',' or '}'");
    }
    if (!haveDescr || !haveFortran || !haveShape)
      fail("it needs 'descr', 'fortran_order' and 'shape'");
  }

private:
  [[noreturn]] void fail(const std::string &why) {
    throw Failure("'" + path_ + "': bad .npy header: " + why);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c)
      fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parseString() {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      fail("expected a quoted string");
    size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos)
      fail("unterminated string");
    std::string value = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return value;
  }
  bool parseBool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::vector<int64_t> parseTuple() {
    std::vector<int64_t> dims;
    expect('(');
    for (;;) {
      skipSpace();
      if (peek() == ')')
        break;
      if (peek() < '0' || peek() > '9')
        fail("bad shape");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (INT64_MAX - 9) / 10)
          fail("dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      // Python writes 2L for longs in old files.
      if (peek() == 'L')
        ++pos_;
      dims.push_back(v);
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')')
        fail("bad shape");
    }
    ++pos_;
    return dims;
  }

  const std::string &s_;
  const std::string &path_;
  size_t pos_ = 0;
};

/// ONNX dtype of an .npy descr like "<f4", or a Failure.
int32_t dtypeFromDescr(const std::string &descr, const std::string &path) {
  if (descr.size() < 3)
    throw Failure("'" + path + "': unsupported .npy dtype '" + descr + "'");
  char order = descr[0];
  std::string kind = descr.substr(1);
  static const std::map<std::string, int32_t> kinds = {
      {"f2", TESSERA_DTYPE_FLOAT16}, {"f4", TESSERA_DTYPE_FLOAT},
      {"f8", TESSERA_DTYPE_DOUBLE},  {"i1", TESSERA_DTYPE_INT8},
      {"i2", TESSERA_DTYPE_INT16},   {"i4", TESSERA_DTYPE_INT32},
      {"i8", TESSERA_DTYPE_INT64},   {"u1", TESSERA_DTYPE_UINT8},
      {"u2", TESSERA_DTYPE_UINT16},  {"u4", TESSERA_DTYPE_UINT32},
      {"u8", TESSERA_DTYPE_UINT64},  {"b1", TESSERA_DTYPE_BOOL},
      // ml_dtypes' bfloat16 arrays are saved as 2-byte opaque values.
      {"V2", TESSERA_DTYPE_BFLOAT16}};
  auto it = kinds.find(kind);
  if (it == kinds.end() ||
      (order != '<' && order != '>' && order != '|' && order != '='))
    throw Failure("'" + path + "': unsupported .npy dtype '" + descr +
                  "' (supported: f2 f4 f8 i1-i8 u1-u8 b1)");
  if (order == '>' && tessera_dtype_size(it->second) > 1)
    throw Failure("'" + path + "': big-endian .npy data ('" + descr +
                  "') is not supported; save it little-endian, e.g. with "
                  "a.astype('<" +
                  kind + "')");
  return it->second;
}

HostTensor readNpy(const std::string &data, const std::string &path) {
  if (data.size() < 10)
    throw Failure("'" + path + "': truncated .npy header");
  unsigned major = static_cast<unsigned char>(data[6]);
  size_t headerLen, headerStart;
  auto byte = [&](size_t i) {
    return static_cast<size_t>(static_cast<unsigned char>(data[i]));
  };
  if (major == 1) {
    headerLen = byte(8) | byte(9) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      throw Failure("'" + path + "': truncated .npy header");
    headerLen = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    headerStart = 12;
  } else {
    throw Failure("'" + path + "': unsupported .npy format version " +
                  std::to_string(major));
  }
  if (headerLen > data.size() - headerStart)
    throw Failure("'" + path + "': truncated .npy header");
  std::string header = data.substr(headerStart, headerLen);

  std::string descr;
  bool fortran = false;
  HostTensor t;
  NpyHeaderParser(header, path).parse(descr, fortran, t.dims);
  t.dtype = dtypeFromDescr(descr, path);
  if (fortran)
    throw Failure("'" + path +
                  "': Fortran-order .npy arrays are not supported; save a "
                  "C-order array (numpy.ascontiguousarray)");
  size_t bytes =
      checkedByteSize(t.dims, tessera_dtype_size(t.dtype), "'" + path + "'");
  size_t have = data.size() - headerStart - headerLen;
  if (have != bytes)
    throw Failure("'" + path + "': " + (have < bytes ? "truncated: " : "") +
                  "it holds " + std::to_string(have) +
                  " bytes of data, but shape " + formatDims(t.dims) + " of " +
                  tessera_dtype_name(t.dtype) + " needs " +
                  std::to_string(bytes));
  t.allocate(bytes);
  std::memcpy(t.data.get(), data.data() + headerStart + headerLen, bytes);
  return t;
}

const char *npyDescr(int32_t dtype) {
  switch (dtype) {
  case TESSERA_DTYPE_FLOAT:
    return "<f4";
  case TESSERA_DTYPE_DOUBLE:
    return "<f8";
  case TESSERA_DTYPE_FLOAT16:
    return "<f2";
  case TESSERA_DTYPE_INT8:
    return "|i1";
  case TESSERA_DTYPE_INT16:
    return "<i2";
  case TESSERA_DTYPE_INT32:
    return "<i4";
  case TESSERA_DTYPE_INT64:
    return "<i8";
  case TESSERA_DTYPE_UINT8:
    return "|u1";
  case TESSERA_DTYPE_UINT16:
    return "<u2";
  case TESSERA_DTYPE_UINT32:
    return "<u4";
  case TESSERA_DTYPE_UINT64:
    return "<u8";
  case TESSERA_DTYPE_BOOL:
    return "|b1";
  default:
    return nullptr;
  }
}

/// Exactly what numpy.save writes: version 1.0 (2.0 for huge headers), the
/// header padded with spaces to a multiple of 64 bytes.
std::string npyBytes(int32_t dtype, const std::vector<int64_t> &dims,
                     const void *data, size_t bytes) {
  const char *descr = npyDescr(dtype);
  if (!descr)
    throw Failure(std::string("cannot write dtype ") +
                  tessera_dtype_name(dtype) + " to .npy");
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t prefix = 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  if (total - prefix > 65535) {
    prefix = 12;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  size_t headerLen = total - prefix;
  dict.append(headerLen - dict.size() - 1, ' ');
  dict += '\n';

  std::string out(kNpyMagic, kNpyMagicLen);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((headerLen >> (8 * i)) & 0xff);
  out += dict;
  out.append(static_cast<const char *>(data), bytes);
  return out;
}

//===----------------------------------------------------------------------===//
// ONNX TensorProto (.pb)
//===----------------------------------------------------------------------===//

HostTensor readTensorProto(const std::string &data, const std::string &path) {
  onnx::TensorProto proto;
  if (data.size() > static_cast<size_t>(INT32_MAX))
    throw Failure("'" + path + "' is too large for a TensorProto (2 GB)");
  if (!proto.ParseFromArray(data.data(), static_cast<int>(data.size())) ||
      proto.data_type() == onnx::TensorProto::UNDEFINED)
    throw Failure("'" + path +
                  "' is neither a .npy file nor an ONNX TensorProto");
  std::string what = "'" + path + "'";
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Failure(what + ": TensorProto with external data is not supported");
  if (proto.has_segment())
    throw Failure(what + ": segmented TensorProto is not supported");

  HostTensor t;
  t.dtype = proto.data_type();
  size_t elemSize = tessera_dtype_size(t.dtype);
  if (elemSize == 0)
    throw Failure(what + ": unsupported TensorProto data type " +
                  tessera_dtype_name(t.dtype) + " (" + std::to_string(t.dtype) +
                  ")");
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  size_t bytes = checkedByteSize(t.dims, elemSize, what);
  size_t count = bytes / elemSize;
  t.allocate(bytes);

  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      throw Failure(
          what + ": raw_data has " + std::to_string(proto.raw_data().size()) +
          " bytes, but shape " + formatDims(t.dims) + " of " +
          tessera_dtype_name(t.dtype) + " needs " + std::to_string(bytes));
    std::memcpy(t.data.get(), proto.raw_data().data(), bytes);
    return t;
  }

  // Typed fields, as ONNX stores each type.
  auto checkCount = [&](int n, const char *field) {
    if (static_cast<size_t>(n) != count)
      throw Failure(what + ": " + field + " has " + std::to_string(n) +
                    " values, but shape " + formatDims(t.dims) + " needs " +
                    std::to_string(count));
  };
  auto store = [&](const auto &values, const char *field, auto convert) {
    checkCount(values.size(), field);
    using Out = decltype(convert(values.Get(0)));
    Out *out = reinterpret_cast<Out *>(t.data.get());
    for (size_t i = 0; i < count; ++i)
      out[i] = convert(values.Get(static_cast<int>(i)));
  };
  if (count == 0)
    return t;
  switch (t.dtype) {
  case TESSERA_DTYPE_FLOAT:
    store(proto.float_data(), "float_data", [](float v) { return v; });
    break;
  case TESSERA_DTYPE_DOUBLE:
    store(proto.double_data(), "double_data", [](double v) { return v; });
    break;
  case TESSERA_DTYPE_INT64:
    store(proto.int64_data(), "int64_data", [](int64_t v) { return v; });
    break;
  case TESSERA_DTYPE_UINT32:
    store(proto.uint64_data(), "uint64_data",
          [](uint64_t v) { return static_cast<uint32_t>(v); });
    break;
  case TESSERA_DTYPE_UINT64:
    store(proto.uint64_data(), "uint64_data", [](uint64_t v) { return v; });
    break;
  case TESSERA_DTYPE_INT32:
    store(proto.int32_data(), "int32_data", [](int32_t v) { return v; });
    break;
  case TESSERA_DTYPE_INT16:
    store(proto.int32_data(), "int32_data",
          [](int32_t v) { return static_cast<int16_t>(v); });
    break;
  case TESSERA_DTYPE_INT8:
    store(proto.int32_data(), "int32_data",
          [](int32_t v) { return static_cast<int8_t>(v); });
    break;
  case TESSERA_DTYPE_UINT16:
  case TESSERA_DTYPE_FLOAT16: // bit patterns
  case TESSERA_DTYPE_BFLOAT16:
    store(proto.int32_data(), "int32_data",
          [](int32_t v) { return static_cast<uint16_t>(v); });
    break;
  case TESSERA_DTYPE_UINT8:
    store(proto.int32_data(), "int32_data",
          [](int32_t v) { return static_cast<uint8_t>(v); });
    break;
  case TESSERA_DTYPE_BOOL:
    store(proto.int32_data(), "int32_data",
          [](int32_t v) { return static_cast<uint8_t>(v != 0); });
    break;
  default:
    throw Failure(what + ": unsupported TensorProto data type " +
                  tessera_dtype_name(t.dtype));
  }
  return t;
}

HostTensor readTensorFile(const std::string &path) {
  std::string data = readFile(path);
  if (isNpy(data))
    return readNpy(data, path);
  return readTensorProto(data, path);
}

//===----------------------------------------------------------------------===//
// Printing and writing outputs
//===----------------------------------------------------------------------===//

template <typename T> T load(const void *data, size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char *>(data) + i * sizeof(T), sizeof(T));
  return v;
}

std::string formatFloat(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string formatValue(int32_t dtype, const void *data, size_t i) {
  switch (dtype) {
  case TESSERA_DTYPE_FLOAT:
    return formatFloat(load<float>(data, i));
  case TESSERA_DTYPE_DOUBLE:
    return formatFloat(load<double>(data, i));
  case TESSERA_DTYPE_FLOAT16:
    return formatFloat(halfToFloat(load<uint16_t>(data, i)));
  case TESSERA_DTYPE_BFLOAT16:
    return formatFloat(bf16ToFloat(load<uint16_t>(data, i)));
  case TESSERA_DTYPE_INT8:
    return std::to_string(load<int8_t>(data, i));
  case TESSERA_DTYPE_INT16:
    return std::to_string(load<int16_t>(data, i));
  case TESSERA_DTYPE_INT32:
    return std::to_string(load<int32_t>(data, i));
  case TESSERA_DTYPE_INT64:
    return std::to_string(load<int64_t>(data, i));
  case TESSERA_DTYPE_UINT8:
    return std::to_string(load<uint8_t>(data, i));
  case TESSERA_DTYPE_UINT16:
    return std::to_string(load<uint16_t>(data, i));
  case TESSERA_DTYPE_UINT32:
    return std::to_string(load<uint32_t>(data, i));
  case TESSERA_DTYPE_UINT64:
    return std::to_string(load<uint64_t>(data, i));
  case TESSERA_DTYPE_BOOL:
    return load<uint8_t>(data, i) ? "true" : "false";
  default:
    return "?";
  }
}

void printSummary(const tessera::Tensor &t) {
  constexpr int64_t kShown = 8;
  std::string values;
  int64_t n = t.numElements();
  for (int64_t i = 0; i < std::min(n, kShown); ++i)
    values += (i ? ", " : "") +
              formatValue(t.dtype(), t.data(), static_cast<size_t>(i));
  if (n > kShown)
    values += ", ...";
  std::printf("%s: %s %s = [%s]\n", t.name().c_str(), t.dtypeName(),
              formatDims(t.dims()).c_str(), values.c_str());
}

std::string sanitize(std::string name) {
  std::replace(name.begin(), name.end(), '/', '_');
  std::replace(name.begin(), name.end(), ':', '_');
  return name;
}

/// Writes atomically: a temporary file renamed into place.
void writeFile(const std::filesystem::path &path, const std::string &bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Failure("cannot write '" + tmp.string() +
                    "': " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw Failure("cannot write '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Failure("cannot write '" + path.string() + "': " + ec.message());
  }
}

void writeOutputs(const std::vector<tessera::Tensor> &outputs,
                  const std::string &dir, bool quiet) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Failure("cannot create output directory '" + dir +
                  "': " + ec.message());
  std::map<std::string, std::string> files; // file name -> output name
  for (const tessera::Tensor &t : outputs) {
    std::string file = sanitize(t.name()) + ".npy";
    auto [it, inserted] = files.emplace(file, t.name());
    if (!inserted)
      throw Failure("outputs '" + it->second + "' and '" + t.name() +
                    "' would both be written to '" + file + "'");
  }
  for (const tessera::Tensor &t : outputs) {
    std::vector<int64_t> dims = t.dims();
    std::string bytes;
    if (t.dtype() == TESSERA_DTYPE_BFLOAT16) {
      // numpy has no bfloat16; float32 holds every value exactly.
      std::vector<float> f(static_cast<size_t>(t.numElements()));
      for (size_t i = 0; i < f.size(); ++i)
        f[i] = bf16ToFloat(load<uint16_t>(t.data(), i));
      bytes = npyBytes(TESSERA_DTYPE_FLOAT, dims, f.data(),
                       f.size() * sizeof(float));
    } else {
      bytes = npyBytes(t.dtype(), dims, t.data(), t.byteSize());
    }
    std::filesystem::path path =
        std::filesystem::path(dir) / (sanitize(t.name()) + ".npy");
    writeFile(path, bytes);
    if (!quiet)
      std::printf("wrote %s\n", path.string().c_str());
  }
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string inputNames(const tessera::Model &model) {
  std::string s;
  for (uint32_t i = 0; i < model.numInputs(); ++i)
    s += (i ? ", " : "") + model.input(i).name;
  return s.empty() ? "none" : s;
}

/// "float32 [batch 1..8, seq, 768]": each dynamic dim by its name (or ?)
/// and the sizes the model takes when bounded.
std::string describeTensor(const tessera::TensorInfo &t) {
  std::string s = std::string(t.dtypeName()) + " [";
  for (size_t d = 0; d < t.dims.size(); ++d) {
    s += d ? ", " : "";
    if (t.dims[d] >= 0) {
      s += std::to_string(t.dims[d]);
      continue;
    }
    const tessera::DimInfo &info = t.dimInfo[d];
    s += info.name.empty() ? "?" : info.name;
    if (info.min != 1 || info.max != INT64_MAX)
      s += " " + std::to_string(info.min) + ".." +
           (info.max == INT64_MAX ? "" : std::to_string(info.max));
  }
  return s + "]";
}

/// Prints the tokens and timings of --generate; writes tokens.npy and
/// logits.npy to --output-dir.
void printGeneration(const tessera::run::Generation &g, const Options &opts,
                     int32_t threads) {
  if (!opts.quiet)
    for (int64_t b = 0; b < g.batch; ++b) {
      std::string ids;
      for (int64_t t = 0; t < g.tokens; ++t)
        ids += (t ? " " : "") + std::to_string(g.ids[b * g.tokens + t]);
      std::printf("tokens[%" PRId64 "]: %s\n", b, ids.c_str());
    }
  std::string runs =
      opts.bench ? ", median of " + std::to_string(opts.bench) + " runs" : "";
  std::printf("prefill: %.3f ms (batch %" PRId64 ", %" PRId64 " tokens%s)\n",
              g.prefillMs, g.batch, g.promptLength, runs.c_str());
  if (g.tokens > 1)
    std::printf("decode: %.3f ms/token (%" PRId64 " steps, batch %" PRId64
                ", %d threads, cache %s%s)\n",
                g.decodeMs, g.tokens - 1, g.batch, threads,
                g.inPlace ? "in place" : "in two buffers", runs.c_str());
  if (opts.outputDir.empty())
    return;
  std::error_code ec;
  std::filesystem::create_directories(opts.outputDir, ec);
  if (ec)
    throw Failure("cannot create output directory '" + opts.outputDir +
                  "': " + ec.message());
  std::filesystem::path dir(opts.outputDir);
  writeFile(dir / "tokens.npy",
            npyBytes(TESSERA_DTYPE_INT64, {g.batch, g.tokens}, g.ids.data(),
                     g.ids.size() * sizeof(int64_t)));
  writeFile(dir / "logits.npy",
            npyBytes(TESSERA_DTYPE_FLOAT, {g.batch, g.tokens, g.vocab},
                     g.logits.data(), g.logits.size() * sizeof(float)));
}

/// float32 -> bfloat16, rounding to nearest even (NaN stays NaN).
uint16_t floatToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

/// A bfloat16 input given as ONNX's test data stores it (a UINT16 TensorProto
/// or .npy of the bit patterns) or as tessera-run writes it (float32 .npy,
/// rounded to nearest even) becomes a bfloat16 tensor.
void adaptBFloat16(HostTensor &t, int32_t inputDtype) {
  if (inputDtype != TESSERA_DTYPE_BFLOAT16)
    return;
  if (t.dtype == TESSERA_DTYPE_UINT16) {
    t.dtype = TESSERA_DTYPE_BFLOAT16;
    return;
  }
  if (t.dtype != TESSERA_DTYPE_FLOAT)
    return;
  size_t count = t.bytes / sizeof(float);
  HostTensor converted;
  converted.dtype = TESSERA_DTYPE_BFLOAT16;
  converted.dims = t.dims;
  converted.allocate(count * sizeof(uint16_t));
  auto *out = reinterpret_cast<uint16_t *>(converted.bytesPtr());
  for (size_t i = 0; i < count; ++i)
    out[i] = floatToBF16(load<float>(t.data.get(), i));
  t = std::move(converted);
}

int run(const Options &opts) {
  tessera::Model model = embeddedModel
                             ? tessera::Model::fromDescriptor(embeddedModel)
                             : tessera::Model::load(opts.model);
  if (opts.describe) {
    for (const tessera::TensorInfo &t : model.inputs())
      std::printf("input  %s: %s\n", t.name.c_str(), describeTensor(t).c_str());
    for (const tessera::TensorInfo &t : model.outputs())
      std::printf("output %s: %s\n", t.name.c_str(), describeTensor(t).c_str());
    return 0;
  }

  // Resolve NAME=FILE against the model's input names, so that a file
  // whose name contains '=' still works positionally.
  std::vector<std::string> names;
  std::vector<HostTensor> tensors;
  for (const std::string &spec : opts.inputs) {
    std::string name, file = spec;
    size_t eq = spec.find('=');
    if (eq == 0)
      throw Failure("--input '" + spec + "': empty input name");
    if (eq != std::string::npos) {
      std::string prefix = spec.substr(0, eq);
      if (model.findInput(prefix) >= 0) {
        name = prefix;
        file = spec.substr(eq + 1);
        if (file.empty())
          throw Failure("--input '" + spec + "': no file given");
      } else if (!isFile(spec)) {
        throw Failure("unknown input '" + prefix +
                      "' (inputs: " + inputNames(model) + ")");
      }
    }
    names.push_back(name);
    tensors.push_back(readTensorFile(file));
  }

  for (size_t i = 0; i < tensors.size(); ++i) {
    int32_t index = names[i].empty() ? static_cast<int32_t>(i)
                                     : model.findInput(names[i]);
    if (index >= 0 && static_cast<uint32_t>(index) < model.numInputs())
      adaptBFloat16(tensors[i], model.inputs()[index].dtype);
  }

  std::vector<tessera::Input> inputs;
  for (size_t i = 0; i < tensors.size(); ++i)
    inputs.push_back(
        {names[i], tensors[i].data.get(), tensors[i].dtype, tensors[i].dims});

  tessera::Session session(model, opts.threads);
  if (opts.generate) {
    printGeneration(tessera::run::generate(model, session, inputs,
                                           opts.generate, opts.bench),
                    opts, session.numThreads());
    return 0;
  }
  std::vector<tessera::Tensor> outputs = session.run(inputs);

  if (!opts.quiet)
    for (const tessera::Tensor &t : outputs)
      printSummary(t);
  if (!opts.outputDir.empty())
    writeOutputs(outputs, opts.outputDir, opts.quiet);

  if (opts.bench > 0) {
    // The first run was the warm-up; time the next ones into the same
    // buffers so that allocation is not measured.
    std::vector<tessera::OutputBuffer> buffers;
    for (tessera::Tensor &t : outputs)
      buffers.push_back({"", t.data(), t.byteSize()});
    std::vector<double> ms;
    ms.reserve(static_cast<size_t>(opts.bench));
    for (int64_t i = 0; i < opts.bench; ++i) {
      auto start = std::chrono::steady_clock::now();
      session.run(inputs, buffers);
      auto end = std::chrono::steady_clock::now();
      ms.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::vector<double> inOrder = ms;
    std::sort(ms.begin(), ms.end());
    size_t n = ms.size();
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    std::printf("latency: median %.3f ms, min %.3f ms, max %.3f ms (%zu "
                "runs, %d threads)\n",
                median, ms.front(), ms.back(), n, session.numThreads());
    std::printf("times:");
    for (double t : inOrder)
      std::printf(" %.3f", t);
    std::printf("\n");
  }
  std::fflush(stdout);
  return 0;
}

} // namespace

/// The whole program; main.cpp passes no model, and a program built by
/// `tessera-compile --emit=exe` passes the descriptor linked into it.
extern "C" int tessera_run_main(int argc, char **argv,
                                const TesseraModelDesc *embedded) {
  embeddedModel = embedded;
  try {
    Options opts = parseArgs(argc, argv);
    if (opts.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return run(opts);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "tessera-run: error: out of memory\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "tessera-run: error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tessera-run: error: unexpected failure\n");
  }
  return 1;
}
