//===- ThreadPool.h - the session thread pool -------------------*- C++ -*-===//
//
// Part of Tessera. A small fork-join pool behind
// TesseraExecContext::parallel_for: one job at a time, split into contiguous
// chunks that the workers and the calling thread claim from an atomic
// counter. Calls made from inside a parallel body run serially.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_THREADPOOL_H
#define TESSERA_RUNTIME_THREADPOOL_H

#include "tessera/abi.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class ThreadPool {
public:
  /// Starts numThreads - 1 workers; the caller of parallelFor is the last
  /// thread. Throws std::system_error if a thread cannot be started.
  explicit ThreadPool(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int numThreads() const { return numThreads_; }

  /// Runs body(closure, begin, end) over chunks covering [0, n) exactly once
  /// and returns when all are done. n <= 0 does nothing.
  void parallelFor(int64_t n, TesseraParallelBody body, void *closure);

  /// True on a pool worker, or on a caller while it runs a parallel body.
  static bool insideParallelRegion();

private:
  struct Job {
    TesseraParallelBody body = nullptr;
    void *closure = nullptr;
    int64_t n = 0;
    int64_t numChunks = 0;
    std::atomic<int64_t> nextChunk{0};
    std::atomic<int64_t> doneChunks{0};
  };

  void workerLoop();
  /// Claims and runs chunks of job until none are left.
  static void runChunks(Job &job);

  int numThreads_;
  std::vector<std::thread> workers_;
  // Serialises parallelFor calls coming from different threads.
  std::mutex dispatchMutex_;
  // Guards job_, hasJob_, stop_, the increments of active_ and the
  // condition variables.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  Job job_;
  bool hasJob_ = false;
  // Workers currently inside job_: joined under mutex_ (while hasJob_), left
  // without it.
  std::atomic<int> active_{0};
  bool stop_ = false;
  std::atomic<uint64_t> generation_{0};
};

} // namespace tessera

#endif // TESSERA_RUNTIME_THREADPOOL_H
