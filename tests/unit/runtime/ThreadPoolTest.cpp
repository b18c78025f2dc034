//===- ThreadPoolTest.cpp - the session thread pool, directly -------------===//
//
// Part of Tessera. The pool's scheduling (parts, pieces, steals) under
// stress: every iteration exactly once, whatever the thread count, the job
// size and the bodies' speeds, and ranges beyond 32 bits.
// scripts/sanitize.sh --quick also builds this file with ThreadSanitizer.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

using tessera::ThreadPool;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  // Iterations that are multiples of slowEvery (if not 0) take longer, so
  // that some parts are stolen from.
  int slowEvery = 0;
  explicit Counts(int64_t n) : hits(n) {}
};

void countBody(void *closure, int64_t begin, int64_t end) {
  auto *c = static_cast<Counts *>(closure);
  for (int64_t i = begin; i < end; ++i) {
    c->hits[i].fetch_add(1, std::memory_order_relaxed);
    if (c->slowEvery && i % c->slowEvery == 0)
      for (volatile int k = 0; k < 2000; ++k) {
      }
  }
}

struct Ranges {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> ranges;
};

void recordBody(void *closure, int64_t begin, int64_t end) {
  auto *r = static_cast<Ranges *>(closure);
  std::lock_guard<std::mutex> lock(r->mutex);
  r->ranges.emplace_back(begin, end);
}

TEST(ThreadPool, RunsEveryIterationOnce) {
  std::mt19937 rng(7);
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    for (int job = 0; job < 1500; ++job) {
      int64_t n = 1 + rng() % 300;
      Counts c(n);
      c.slowEvery = static_cast<int>(rng() % 5);
      pool.parallelFor(n, countBody, &c);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(c.hits[i].load(), 1)
            << "iteration " << i << " of " << n << ", " << threads
            << " threads, job " << job;
      // Now and then the workers fall asleep between jobs.
      if (job % 250 == 249)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

TEST(ThreadPool, RangesBeyond32Bits) {
  for (int64_t n : {int64_t(UINT32_MAX), int64_t(UINT32_MAX) + 1,
                    int64_t(5000000001), int64_t(1) << 40}) {
    for (int threads : {2, 3}) {
      ThreadPool pool(threads);
      Ranges r;
      pool.parallelFor(n, recordBody, &r);
      std::sort(r.ranges.begin(), r.ranges.end());
      int64_t covered = 0;
      for (auto [begin, end] : r.ranges) {
        ASSERT_EQ(begin, covered) << "n = " << n << ": a gap or an overlap";
        ASSERT_LT(begin, end) << "n = " << n << ": an empty range";
        covered = end;
      }
      EXPECT_EQ(covered, n);
    }
  }
}

} // namespace
