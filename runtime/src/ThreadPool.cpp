//===- ThreadPool.cpp - the session thread pool ---------------------------===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace tessera;

namespace {
// Set on workers for their whole life and on a caller while it runs pieces,
// so that a parallel_for issued from inside a body runs serially instead of
// waiting for threads that are busy running the outer loop.
thread_local bool tInsideParallelRegion = false;

// Pieces an owner takes its part in: more than one, so that the part of a
// thread that falls behind (slow to wake up, or on a slower CPU: the machine
// may be shared, its CPUs of different speeds) can be shared out. A piece
// is a range of iterations in order, and an owner runs its pieces in order:
// a GEMM body prefetches the weight panel after each of its panels, so the
// pieces of a part after the first start in cache; only a part's first
// piece and a stolen range's start from memory. (With chunks claimed from
// one counter, each of 2 threads started about two chunks a job from
// memory, and BERT-base ran 2% slower with 4 chunks per thread than with 2,
// 4-8% slower with 8 or 16.)
constexpr int64_t kPiecesPerPart = 16;
// How long a thread polls (for a new job, or for the end of its job) before
// it sleeps. A parallel_for usually follows another within microseconds,
// but a job's last piece may end up to a piece's time (a GEMM panel: up to
// 100 us) after the others, and waking a sleeping thread costs its waker a
// system call (about 20 us in a VM) and the sleeper a reschedule: with
// 2000 polls (38 us on Zen 5), BERT-base's threads slept about 10 times a
// run. Longer would steal cores from other processes.
constexpr std::chrono::microseconds kSpinTime{200};

uint64_t packRange(uint32_t begin, uint32_t end) {
  return (uint64_t(begin) << 32) | end;
}
uint32_t rangeBegin(uint64_t range) { return uint32_t(range >> 32); }
uint32_t rangeEnd(uint64_t range) { return uint32_t(range); }

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// Polls `done` for up to kSpinTime; whether it became true.
template <typename Pred> bool spinUntil(Pred done) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done())
        return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return done();
  }
}
} // namespace

ThreadPool::ThreadPool(int numThreads) : numThreads_(std::max(1, numThreads)) {
  job_.parts = std::make_unique<Part[]>(numThreads_);
  workers_.reserve(numThreads_ - 1);
  try {
    for (int i = 1; i < numThreads_; ++i)
      workers_.emplace_back([this] { workerLoop(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

bool ThreadPool::insideParallelRegion() { return tInsideParallelRegion; }

bool ThreadPool::claimFront(Job &job, int own, uint32_t &begin, uint32_t &end) {
  std::atomic<uint64_t> &range = job.parts[own].range;
  uint64_t r = range.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t b = rangeBegin(r), e = rangeEnd(r);
    if (b >= e)
      return false;
    uint32_t next = e - b > job.piece ? b + job.piece : e;
    // The claims need only be exclusive: the job's data is published by
    // generation_ and collected through done.
    if (range.compare_exchange_weak(r, packRange(next, e),
                                    std::memory_order_relaxed)) {
      begin = b;
      end = next;
      return true;
    }
  }
}

bool ThreadPool::steal(Job &job, int own) {
  for (int k = 1; k < numThreads_; ++k) {
    std::atomic<uint64_t> &range = job.parts[(own + k) % numThreads_].range;
    uint64_t r = range.load(std::memory_order_relaxed);
    for (;;) {
      uint32_t b = rangeBegin(r), e = rangeEnd(r);
      if (b >= e)
        break;
      uint32_t mid = e - (e - b + 1) / 2; // the back half, at least one unit
      if (range.compare_exchange_weak(r, packRange(b, mid),
                                      std::memory_order_relaxed)) {
        // Only its owner fills an empty part (a thief cannot shrink it).
        job.parts[own].range.store(packRange(mid, e),
                                   std::memory_order_relaxed);
        return true;
      }
    }
  }
  return false;
}

void ThreadPool::runPieces(Job &job, int own) {
  if (own >= numThreads_)
    return; // cannot happen: each worker joins a job once
  // Counted here and added once: a shared counter written after every
  // piece would move its cache line between the threads each time.
  int64_t ran = 0;
  do {
    uint32_t b, e;
    while (claimFront(job, own, b, e)) {
      int64_t begin = int64_t(b) * job.unit;
      int64_t end = std::min<int64_t>(int64_t(e) * job.unit, job.n);
      job.body(job.closure, begin, end);
      ran += end - begin;
    }
  } while (steal(job, own));
  job.done.fetch_add(ran, std::memory_order_release);
}

void ThreadPool::workerLoop() {
  tInsideParallelRegion = true;
  uint64_t seen = 0;
  for (;;) {
    spinUntil(
        [&] { return generation_.load(std::memory_order_acquire) != seen; });

    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] {
      return stop_ || generation_.load(std::memory_order_relaxed) != seen;
    });
    if (stop_)
      return;
    seen = generation_.load(std::memory_order_relaxed);
    // The job may already be finished (all pieces claimed and the caller
    // gone); then there is nothing to join.
    if (!hasJob_)
      continue;
    active_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    runPieces(job_, job_.nextPart.fetch_add(1, std::memory_order_relaxed));
    if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Through the mutex, so that a caller between testing its condition
      // and sleeping does not miss the notification. Without a sleeper this
      // makes no system call.
      lock.lock();
      finished_.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int64_t n, TesseraParallelBody body,
                             void *closure) {
  if (n <= 0 || !body)
    return;
  if (numThreads_ == 1 || n == 1 || tInsideParallelRegion) {
    body(closure, 0, n);
    return;
  }

  std::lock_guard<std::mutex> dispatch(dispatchMutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_.body = body;
    job_.closure = closure;
    job_.n = n;
    // Units of one iteration, unless n does not fit the 32 bits of a Part.
    const int64_t maxUnits = UINT32_MAX;
    job_.unit = (n + maxUnits - 1) / maxUnits;
    const uint64_t units = uint64_t((n + job_.unit - 1) / job_.unit);
    for (int t = 0; t < numThreads_; ++t)
      job_.parts[t].range.store(
          packRange(uint32_t(units * t / numThreads_),
                    uint32_t(units * (t + 1) / numThreads_)),
          std::memory_order_relaxed);
    job_.piece = uint32_t(std::max<uint64_t>(
        1, (units / numThreads_ + kPiecesPerPart - 1) / kPiecesPerPart));
    job_.nextPart.store(1, std::memory_order_relaxed);
    job_.done.store(0, std::memory_order_relaxed);
    hasJob_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();

  tInsideParallelRegion = true;
  runPieces(job_, 0);
  tInsideParallelRegion = false;

  // Every piece has been claimed. Wait for the workers still running theirs;
  // a worker that joins late finds nothing to claim and leaves at once. The
  // last pieces usually end within microseconds: spin first, as the workers
  // do, and sleep only then (waking a sleeping caller costs a system call
  // and a reschedule on the critical path).
  auto finished = [&] {
    return active_.load(std::memory_order_acquire) == 0 &&
           job_.done.load(std::memory_order_acquire) == job_.n;
  };
  spinUntil(finished);
  std::unique_lock<std::mutex> lock(mutex_);
  finished_.wait(lock, finished);
  hasJob_ = false;
}
