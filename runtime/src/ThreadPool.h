//===- ThreadPool.h - the session thread pool -------------------*- C++ -*-===//
//
// Part of Tessera. A small fork-join pool behind
// TesseraExecContext::parallel_for: one job at a time, its range split into
// one contiguous part per thread. Each thread claims pieces from the front
// of its own part, in order, and when it runs out steals the back half of
// what another thread has left. Calls made from inside a parallel body run
// serially.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_THREADPOOL_H
#define TESSERA_RUNTIME_THREADPOOL_H

#include "tessera/abi.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
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

  /// Runs body(closure, begin, end) over pieces covering [0, n) exactly once
  /// and returns when all are done. n <= 0 does nothing.
  void parallelFor(int64_t n, TesseraParallelBody body, void *closure);

  /// True on a pool worker, or on a caller while it runs a parallel body.
  static bool insideParallelRegion();

private:
  /// What is left of one thread's part of the job, in units: begin in the
  /// high 32 bits, end in the low ones (empty when begin >= end). Its
  /// owner takes pieces from the front, other threads steal from the back;
  /// both by compare-and-swap.
  struct alignas(64) Part {
    std::atomic<uint64_t> range{0};
  };

  struct Job {
    TesseraParallelBody body = nullptr;
    void *closure = nullptr;
    int64_t n = 0;
    // Iterations per unit: 1 unless n does not fit the 32 bits of a Part.
    int64_t unit = 1;
    // Units an owner takes at a time from its part.
    uint32_t piece = 1;
    std::unique_ptr<Part[]> parts; // numThreads_
    // Written while the job runs: on their own cache line, away from the
    // fields above, which every piece reads.
    // The next part a joining worker owns (the caller owns part 0).
    alignas(64) std::atomic<int> nextPart{1};
    // Iterations done.
    std::atomic<int64_t> done{0};
  };

  void workerLoop();
  /// Runs pieces of job until no part has any left: first those of part
  /// `own`, from its front, then halves stolen from the others.
  void runPieces(Job &job, int own);
  /// Claims up to job.piece units from the front of part `own`.
  static bool claimFront(Job &job, int own, uint32_t &begin, uint32_t &end);
  /// Moves the back half of what another part has left into part `own`
  /// (empty). False when every part is empty.
  bool steal(Job &job, int own);

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
