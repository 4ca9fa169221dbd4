// A fixed pool of native threads: run(tasks, fn) calls fn(0..tasks-1), each task exactly once,
// and returns when all are done. Tasks are handed out one at a time from an atomic counter
// (never a static split), and the calling thread takes them too, so a worker the OS has
// descheduled (a busy machine) holds up at most the one task it claimed: the others, or the
// caller alone, take the rest. The task grid is the caller's, fixed by the shape, so which
// thread runs a task never changes a result.
//
// A busy machine (another process wants a core) is told by the CPU time other processes take
// (Linux: the machine's idle time less this process's CPU time). While it lasts, workers sleep right
// after a job (a spinning or yielding worker takes CPU time the calling thread's serial work then
// lacks), and the caller starts each job alone, waking them only once the job has shown it is
// long (WAKE_AFTER): short jobs then cost what they cost on one thread, long ones get every core.
// QKV_POOL_BUSY forces a policy (see busyPolicy in pool.cc).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qkv {

/** What the pool did since it started (the bench and the tests read it). */
struct PoolStats {
  long jobs = 0;         // run() calls that used the workers
  long windows = 0;      // busy-detection windows closed
  long busyWindows = 0;  // of those, windows that ended busy
  long busyJobs = 0;     // jobs started while the machine counted as busy
  long lateWakes = 0;    // busy jobs long enough to wake the workers
  double jobUs = 0;      // the caller's time in those jobs
  double waitUs = 0;     // of it, waiting for workers' tasks once none was left to claim
};

class Pool {
 public:
  explicit Pool(int threads);
  ~Pool();
  int threads() const { return (int)workers_.size() + 1; }
  void run(int tasks, const std::function<void(int)>& fn);
  /** Whether the pool currently treats the machine as busy. */
  bool busy() const { return busy_.load(std::memory_order_relaxed); }
  PoolStats stats() const { return stats_; }

 private:
  using Clock = std::chrono::steady_clock;
  void loop();
  /** Updates busy_ from the CPU time other processes took since the last window. */
  void watch();
  /** The caller, no task of the job left to claim, waits until the workers' are done. */
  void waitForWorkers(int tasks, bool busy);
  /** Wakes the sleeping workers (they then find the current job). */
  void wakeWorkers();
  /**
   * Claims and runs tasks of job `gen` until none is left; returns once the job has moved on.
   * The caller passes wakeAt: past it, with tasks still unclaimed, it wakes the workers (once).
   */
  void work(uint32_t gen, const std::function<void(int)>* fn, int tasks, Clock::time_point wakeAt = Clock::time_point::max());
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, finished_;
  // the job: (generation << 32) | next unclaimed task. A worker claims with a compare-exchange
  // on the whole word, so one still holding an old job's generation can never take a new task
  std::atomic<uint64_t> claim_{0};
  std::atomic<const std::function<void(int)>*> fn_{nullptr};
  std::atomic<int> tasks_{0}, done_{0};
  std::atomic<bool> callerWaits_{false};
  int sleepers_ = 0;
  bool stop_ = false;
  const int policy_;
  const Clock::duration wakeAfter_;
  std::atomic<bool> busy_{false};
  // busy-machine detection: /proc/uptime (-1: none, never busy), the machine's cores, its idle
  // time and this process's CPU time at the window's start (µs), when the window started (µs),
  // the average cores other processes used
  int uptime_ = -1, cores_ = 1;
  int64_t idle_ = 0, selfCpu_ = 0, windowStart_ = 0;
  double others_ = 0;
  PoolStats stats_;  // the caller's thread only
};

}  // namespace qkv
