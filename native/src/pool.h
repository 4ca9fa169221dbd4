// A fixed pool of native threads: run(tasks, fn) calls fn(0..tasks-1) on the calling thread and
// the workers (each task exactly once) and returns when all are done. Workers spin briefly
// after a job (the next kernel call usually follows within microseconds), then sleep.
#pragma once
#include <atomic>
#include <condition_variable>
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

 private:
  void loop();
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> next_{0}, done_{0}, active_{0};
  int tasks_ = 0, sleepers_ = 0;
  const std::function<void(int)>* fn_ = nullptr;
  bool stop_ = false;
};

}  // namespace qkv
