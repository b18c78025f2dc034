//===- GenerationTest.cpp - past/present pairs and KV caches --------------===//
//
// Part of Tessera. Decode loops over models/kv_model.c (a KV-cache decoder in
// miniature) in its variants: pairs by name, pairs recorded in place (ABI
// v5), pairs by structure, and a cache without its present output.
//
//===----------------------------------------------------------------------===//

#include "tessera/runtime.h"
#include "tessera/runtime.hpp"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <set>
#include <string>
#include <vector>

namespace {

constexpr int64_t kHeads = 2, kDim = 3;

std::string modelPath(const std::string &name) {
  return std::string(TESSERA_TEST_MODEL_DIR) + "/" + name + ".so";
}

/// What kv_model.c computes, on a host copy of the whole cache.
struct Reference {
  int64_t batch;
  std::vector<std::vector<float>> rows; // per (b, h): rows of kDim

  explicit Reference(int64_t b) : batch(b), rows(b * kHeads) {}
  int64_t length() const { return rows[0].size() / kDim; }

  /// Appends ids [batch, s] and returns the logits [batch, s, 2].
  std::vector<float> step(const std::vector<int64_t> &ids) {
    int64_t s = static_cast<int64_t>(ids.size()) / batch, p = length();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < kHeads; ++h)
        for (int64_t t = 0; t < s; ++t)
          for (int64_t d = 0; d < kDim; ++d)
            rows[b * kHeads + h].push_back(10.0f * ids[b * s + t] + h +
                                           d / 2.0f);
    std::vector<float> logits;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < s; ++t) {
        float sum = 0;
        for (int64_t h = 0; h < kHeads; ++h)
          for (int64_t r = 0; r < (p + t + 1) * kDim; ++r)
            sum += rows[b * kHeads + h][r];
        logits.push_back(sum);
        logits.push_back(static_cast<float>(p));
      }
    return logits;
  }
};

std::vector<float> logitsOf(const tessera::Tensor &t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numElements());
}

/// The cache's contents, read through its view's strides.
std::vector<std::vector<float>> cacheRows(const tessera::KVCache &cache) {
  tessera::KVCache::View v = cache.view(0);
  std::vector<std::vector<float>> rows;
  const float *data = static_cast<const float *>(v.data);
  for (int64_t b = 0; b < v.dims[0]; ++b)
    for (int64_t h = 0; h < v.dims[1]; ++h) {
      rows.emplace_back();
      for (int64_t r = 0; r < v.dims[2]; ++r)
        for (int64_t d = 0; d < v.dims[3]; ++d)
          rows.back().push_back(data[b * v.strides[0] + h * v.strides[1] +
                                     r * v.strides[2] + d * v.strides[3]]);
    }
  return rows;
}

/// Prefill with a prompt of 3, then decode `steps` tokens one at a time,
/// checking every step's logits and cache against the reference; returns the
/// cache's data pointers seen after each step.
std::set<const void *> decode(tessera::KVCache &cache, int64_t batch,
                              int steps) {
  Reference ref(batch);
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < batch * 3; ++i)
    prompt.push_back(i + 1);
  std::set<const void *> pointers;
  std::vector<int64_t> ids = prompt;
  for (int step = 0; step <= steps; ++step) {
    int64_t s = static_cast<int64_t>(ids.size()) / batch;
    std::vector<tessera::Tensor> out =
        cache.run({tessera::Input::of("input_ids", ids.data(), {batch, s})});
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].name(), "logits");
    EXPECT_EQ(logitsOf(out[0]), ref.step(ids)) << "step " << step;
    EXPECT_EQ(cache.length(), ref.length());
    EXPECT_EQ(cacheRows(cache), ref.rows) << "step " << step;
    pointers.insert(cache.view(0).data);
    // The next token: a function of the last logits, like greedy decoding.
    ids.assign(batch, 0);
    for (int64_t b = 0; b < batch; ++b)
      ids[b] = static_cast<int64_t>(logitsOf(out[0])[(b * s + s - 1) * 2]) %
               50;
  }
  return pointers;
}

TEST(GenerationTest, PairsByOptimumNames) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model"));
  std::vector<tessera::CachePair> pairs = model.cachePairs();
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].input, 1u);
  EXPECT_EQ(pairs[0].output, 1u);
  EXPECT_EQ(pairs[0].axis, 2);
  EXPECT_FALSE(pairs[0].inPlace);
}

TEST(GenerationTest, PairsByStructure) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model_generic"));
  std::vector<tessera::CachePair> pairs = model.cachePairs();
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].input, 1u);
  EXPECT_EQ(pairs[0].output, 1u);
  EXPECT_EQ(pairs[0].axis, 2);
  tessera::Session session(model, 1);
  tessera::KVCache cache(session, 16);
  decode(cache, 1, 4);
}

TEST(GenerationTest, PairsRecordedByTheLibrary) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model_in_place"));
  std::vector<tessera::CachePair> pairs = model.cachePairs();
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_TRUE(pairs[0].inPlace);
}

TEST(GenerationTest, CacheWithoutPresentIsRefused) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model_unpaired"));
  try {
    model.cachePairs();
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    EXPECT_EQ(e.code(), TESSERA_ERROR_INVALID_ARGUMENT);
    std::string m = e.what();
    EXPECT_NE(m.find("'past_key_values.0.key' looks like a KV cache"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("no output 'present.0.key'"), std::string::npos) << m;
  }
  tessera::Session session(model, 1);
  EXPECT_THROW(tessera::KVCache(session, 8), tessera::Error);
}

TEST(GenerationTest, ModelWithoutPairs) {
  tessera::Model model = tessera::Model::load(modelPath("dynamic_model"));
  try {
    model.cachePairs();
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("no past/present (KV cache) pairs"), std::string::npos)
        << m;
    EXPECT_NE(m.find("'past_key_values.N.key'"), std::string::npos) << m;
    EXPECT_NE(m.find("input 'x' [batch, 3]"), std::string::npos) << m;
  }
}

/// Decodes 6 tokens after a prompt of 3 with a cache of capacity 16, and
/// checks the buffers the steps used and the layout of the cache.
void checkLoop(const std::string &name, int64_t batch, bool inPlace) {
  tessera::Model model = tessera::Model::load(modelPath(name));
  tessera::Session session(model, 1);
  tessera::KVCache cache(session, 16);
  EXPECT_EQ(cache.inPlace(), inPlace);
  EXPECT_EQ(cache.length(), 0);
  std::set<const void *> pointers = decode(cache, batch, 6);
  // One buffer grows in place, or two take turns.
  EXPECT_EQ(pointers.size(), inPlace ? 1u : 2u);
  tessera::KVCache::View v = cache.view(0);
  EXPECT_EQ(v.dims, (std::vector<int64_t>{batch, kHeads, 9, kDim}));
  // In place, rows are laid out for the capacity.
  int64_t rows = inPlace ? 16 : 9;
  EXPECT_EQ(v.strides, (std::vector<int64_t>{kHeads * rows * kDim,
                                             rows * kDim, kDim, 1}));
}

TEST(GenerationTest, TwoBuffersTakeTurns) { checkLoop("kv_model", 2, false); }

TEST(GenerationTest, OneBufferGrowsInPlace) {
  checkLoop("kv_model_in_place", 3, true);
}

TEST(GenerationTest, MalformedPairsAreRefusedAtLoad) {
  void *lib = dlopen(modelPath("kv_model_in_place").c_str(), RTLD_NOW);
  ASSERT_NE(lib, nullptr) << dlerror();
  TesseraModelDesc desc =
      *static_cast<const TesseraModelDesc *>(dlsym(lib, "tessera_model_v1"));
  auto expectRefused = [&](TesseraCachePair pair, TesseraRunStridedFn run,
                           const std::string &part) {
    TesseraModelDesc d = desc;
    d.cache_pairs = &pair;
    d.run_strided = run;
    try {
      tessera::Model::fromDescriptor(&d);
      ADD_FAILURE() << "expected an error containing " << part;
    } catch (const tessera::Error &e) {
      EXPECT_EQ(e.code(), TESSERA_ERROR_LOAD);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << e.what();
    }
  };
  TesseraRunStridedFn run = desc.run_strided;
  expectRefused({1, 1, 4, 0}, run, "cache pair 0 has axis 4 out of range");
  expectRefused({1, 2, 2, 0}, run,
                "cache pair 0 names a tensor that does not exist");
  expectRefused({0, 1, 1, 0}, run,
                "pairs input 'input_ids' with output 'present.0.key' of "
                "another dtype or rank");
  expectRefused({1, 1, 2, TESSERA_CACHE_IN_PLACE}, nullptr,
                "cache pair 0 is in place but run_strided is NULL");
  // A valid pair without the flag: pairs only, two buffers take turns.
  TesseraModelDesc d = desc;
  TesseraCachePair plain = {1, 1, 2, 0};
  d.cache_pairs = &plain;
  {
    tessera::Model model = tessera::Model::fromDescriptor(&d);
    tessera::Session session(model, 1);
    tessera::KVCache cache(session, 8);
    EXPECT_FALSE(cache.inPlace());
    decode(cache, 1, 3);
  }
  dlclose(lib);
}

// A v5 library lists only the pairs it made in place; the runtime pairs the
// other caches by name, and a cache with a pair not in place takes two
// buffers.
TEST(GenerationTest, UnlistedCachesArePairedByName) {
  void *lib = dlopen(modelPath("kv_model_in_place").c_str(), RTLD_NOW);
  ASSERT_NE(lib, nullptr) << dlerror();
  TesseraModelDesc d =
      *static_cast<const TesseraModelDesc *>(dlsym(lib, "tessera_model_v1"));
  d.num_cache_pairs = 0;
  {
    tessera::Model model = tessera::Model::fromDescriptor(&d);
    std::vector<tessera::CachePair> pairs = model.cachePairs();
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0].input, 1u);
    EXPECT_EQ(pairs[0].output, 1u);
    EXPECT_FALSE(pairs[0].inPlace);
    tessera::Session session(model, 1);
    tessera::KVCache cache(session, 8);
    EXPECT_FALSE(cache.inPlace());
    decode(cache, 2, 3);
  }
  dlclose(lib);
}

TEST(GenerationTest, CapacityIsEnforced) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model"));
  tessera::Session session(model, 1);
  tessera::KVCache cache(session, 4);
  std::vector<int64_t> ids = {1, 2, 3};
  cache.run({tessera::Input::of("input_ids", ids.data(), {1, 3})});
  cache.run({tessera::Input::of("input_ids", ids.data(), {1, 1})});
  EXPECT_EQ(cache.length(), 4);
  std::vector<std::vector<float>> before = cacheRows(cache);
  try {
    cache.run({tessera::Input::of("input_ids", ids.data(), {1, 1})});
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("holds at most 4 positions"), std::string::npos) << m;
    EXPECT_NE(m.find("needs 5 (4 past + 1 new)"), std::string::npos) << m;
  }
  // A refused step leaves the cache as it was.
  EXPECT_EQ(cache.length(), 4);
  EXPECT_EQ(cacheRows(cache), before);
  cache.reset();
  EXPECT_EQ(cache.length(), 0);
  cache.run({tessera::Input::of("input_ids", ids.data(), {1, 3})});
  EXPECT_EQ(cache.length(), 3);
}

TEST(GenerationTest, BatchIsFixedUntilReset) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model_in_place"));
  tessera::Session session(model, 1);
  tessera::KVCache cache(session, 8);
  std::vector<int64_t> ids = {1, 2, 3, 4};
  cache.run({tessera::Input::of("input_ids", ids.data(), {2, 2})});
  try {
    cache.run({tessera::Input::of("input_ids", ids.data(), {1, 1})});
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    std::string m = e.what();
    EXPECT_NE(m.find("(batch_size) is 1"), std::string::npos) << m;
    EXPECT_NE(m.find("is 2"), std::string::npos) << m;
  }
  EXPECT_EQ(cache.length(), 2);
  cache.reset();
  Reference ref(4);
  std::vector<tessera::Tensor> out =
      cache.run({tessera::Input::of("input_ids", ids.data(), {4, 1})});
  EXPECT_EQ(logitsOf(out[0]), ref.step(ids));
}

TEST(GenerationTest, BindingErrors) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model"));
  tessera::Session session(model, 1);
  tessera::KVCache cache(session, 8);
  std::vector<int64_t> ids = {1};
  std::vector<float> past(6);
  auto expectError = [&](const std::vector<tessera::Input> &inputs,
                         const std::string &part) {
    try {
      cache.run(inputs);
      ADD_FAILURE() << "expected an error containing " << part;
    } catch (const tessera::Error &e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << e.what();
    }
  };
  expectError({}, "expected 1 inputs (every model input but the past ones "
                  "the KV cache binds: input_ids), got 0");
  expectError({tessera::Input::of("past_key_values.0.key", past.data(),
                                  {1, 2, 1, 3})},
              "input 'past_key_values.0.key' is bound by the KV cache");
  expectError({tessera::Input::of("nope", ids.data(), {1, 1})},
              "unknown input 'nope'");
  EXPECT_EQ(cache.length(), 0);
}

TEST(GenerationTest, CallerBuffersThroughTheCApi) {
  tessera::Model model = tessera::Model::load(modelPath("kv_model_in_place"));
  tessera::Session session(model, 1);
  TesseraKVCache *cache = nullptr;
  ASSERT_EQ(tessera_kv_cache_create(session.get(), 8, &cache), nullptr);
  EXPECT_EQ(tessera_kv_cache_num_pairs(cache), 1u);
  EXPECT_EQ(tessera_kv_cache_num_outputs(cache), 1u);
  EXPECT_EQ(tessera_kv_cache_capacity(cache), 8);
  Reference ref(1);
  std::vector<int64_t> ids = {7, 8};
  for (int step = 0; step < 3; ++step) {
    int64_t dims[] = {1, static_cast<int64_t>(ids.size())};
    TesseraInput in = {nullptr, ids.data(), TESSERA_DTYPE_INT64, 2, dims};
    std::vector<float> logits(ids.size() * 2);
    TesseraOutputBuffer out = {"logits", logits.data(),
                               logits.size() * sizeof(float)};
    TesseraStatus *st = tessera_kv_cache_run(cache, &in, 1, &out, 1);
    ASSERT_EQ(st, nullptr) << tessera_status_message(st);
    EXPECT_EQ(logits, ref.step(ids));
    ids = {static_cast<int64_t>(step + 1)};
  }
  EXPECT_EQ(tessera_kv_cache_length(cache), 4);
  tessera_kv_cache_destroy(cache);
}

} // namespace
