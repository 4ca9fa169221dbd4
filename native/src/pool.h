// A fixed pool of native threads: run(tasks, fn) calls fn(0..tasks-1), each task exactly once,
// and returns when all are done. Tasks are handed out one at a time from an atomic counter
// (never a static split), and the calling thread takes them too, so a worker the OS has
// descheduled (a busy machine) holds up at most the one task it claimed: the others, or the
// caller alone, take the rest. The task grid is the caller's, fixed by the shape, so which
// thread runs a task never changes a result.
//
// With QKV_POOL_BUSY=sleep (or serial), a busy machine (another process wants a core: the OS
// preempts this process's threads) is told by the threads' involuntary context switches
// (getrusage). While it lasts, workers stop spinning between jobs (a spinning worker takes CPU
// time the calling thread's own work then lacks), or with serial the caller runs jobs alone.
// Off by default (see busyPolicy in pool.cc for why).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qkv {

class Pool {
 public:
  explicit Pool(int threads);
  ~Pool();
  int threads() const { return (int)workers_.size() + 1; }
  void run(int tasks, const std::function<void(int)>& fn);
  /** Whether the pool currently sees a busy machine. */
  bool busy() const { return busy_.load(std::memory_order_relaxed); }

 private:
  void loop();
  /** Updates busy_ from the involuntary switches counted since the last window. */
  void watch();
  /** Claims and runs tasks of job `gen` until none is left; false once the job has moved on. */
  void work(uint32_t gen, const std::function<void(int)>* fn, int tasks);
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
  // busy-machine detection: switches the workers counted (added after each job they ran), the
  // caller's own count at the window's start, when the window started and when busy was last seen
  const int policy_;
  bool watchBusy_ = true;
  std::atomic<long> workerSwitches_{0};
  std::atomic<bool> busy_{false};
  long callerSwitches_ = 0;
  int64_t windowStart_ = 0, busySeen_ = 0;
};

}  // namespace qkv
