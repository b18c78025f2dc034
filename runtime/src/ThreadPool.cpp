//===- ThreadPool.cpp - the session thread pool ---------------------------===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace tessera;

namespace {
// Set on workers for their whole life and on a caller while it runs chunks,
// so that a parallel_for issued from inside a body runs serially instead of
// waiting for threads that are busy running the outer loop.
thread_local bool tInsideParallelRegion = false;

// Chunks per thread: more than one so that a thread that is slow to wake up
// (the machine may be shared, its CPUs of different speeds) does not hold
// everyone else back, but few: a GEMM's weight panels are prefetched one
// panel ahead within a chunk, so each chunk's first panel waits on memory.
// BERT-base on 2 threads (Zen 5 VM): 2 per thread 2% faster than 4, 8 and
// 16 per thread 4-8% slower.
constexpr int64_t kChunksPerThread = 2;
// How many times a worker polls for new work before it sleeps. Short: a
// parallel_for usually follows another within microseconds, but spinning
// longer would steal cores from other processes.
constexpr int kSpinIterations = 2000;

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}
} // namespace

ThreadPool::ThreadPool(int numThreads) : numThreads_(std::max(1, numThreads)) {
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

void ThreadPool::runChunks(Job &job) {
  const int64_t base = job.n / job.numChunks;
  const int64_t extra = job.n % job.numChunks;
  for (;;) {
    int64_t c = job.nextChunk.fetch_add(1, std::memory_order_relaxed);
    if (c >= job.numChunks)
      return;
    // The first `extra` chunks get one more iteration.
    int64_t begin = c * base + std::min(c, extra);
    int64_t end = begin + base + (c < extra ? 1 : 0);
    job.body(job.closure, begin, end);
    job.doneChunks.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::workerLoop() {
  tInsideParallelRegion = true;
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < kSpinIterations &&
                    generation_.load(std::memory_order_acquire) == seen;
         ++i)
      cpuRelax();

    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] {
      return stop_ || generation_.load(std::memory_order_relaxed) != seen;
    });
    if (stop_)
      return;
    seen = generation_.load(std::memory_order_relaxed);
    // The job may already be finished (all chunks claimed and the caller
    // gone); then there is nothing to join.
    if (!hasJob_)
      continue;
    active_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    runChunks(job_);
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
    job_.numChunks = std::min<int64_t>(n, numThreads_ * kChunksPerThread);
    job_.nextChunk.store(0, std::memory_order_relaxed);
    job_.doneChunks.store(0, std::memory_order_relaxed);
    hasJob_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();

  tInsideParallelRegion = true;
  runChunks(job_);
  tInsideParallelRegion = false;

  // Every chunk has been claimed. Wait for the workers still running theirs;
  // a worker that joins late finds nothing to claim and leaves at once. The
  // last chunks usually end within microseconds: spin first, as the workers
  // do, and sleep only then (waking a sleeping caller costs a system call
  // and a reschedule on the critical path).
  auto finished = [&] {
    return active_.load(std::memory_order_acquire) == 0 &&
           job_.doneChunks.load(std::memory_order_acquire) == job_.numChunks;
  };
  for (int i = 0; i < kSpinIterations && !finished(); ++i)
    cpuRelax();
  std::unique_lock<std::mutex> lock(mutex_);
  finished_.wait(lock, finished);
  hasJob_ = false;
}
