#include "pool.h"

namespace qkv {

static inline void relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

Pool::Pool(int threads) {
  for (int i = 1; i < threads; i++) workers_.emplace_back([this] { loop(); });
}

Pool::~Pool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    gen_++;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void Pool::loop() {
  uint64_t seen = 0;
  for (;;) {
    // spin a little for the next job, then sleep
    for (int i = 0; i < 20000 && gen_.load(std::memory_order_acquire) == seen; i++) relax();
    std::unique_lock<std::mutex> lk(mu_);
    if (gen_.load() == seen) {
      sleepers_++;
      cv_.wait(lk, [&] { return gen_.load() != seen; });
      sleepers_--;
    }
    if (stop_) return;
    seen = gen_.load();
    const std::function<void(int)>* fn = fn_;
    int tasks = tasks_;
    active_++;
    lk.unlock();
    for (int t; (t = next_.fetch_add(1)) < tasks;) {
      (*fn)(t);
      done_.fetch_add(1, std::memory_order_release);
    }
    active_--;
  }
}

void Pool::run(int tasks, const std::function<void(int)>& fn) {
  if (workers_.empty() || tasks <= 1) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  bool wake;
  {
    // a worker still inside the previous job's loop must leave before the counters reset; workers
    // join a job under the lock, so none can join the old one once this holds it with active_ == 0
    std::unique_lock<std::mutex> lk(mu_);
    while (active_.load() > 0) {
      lk.unlock();
      std::this_thread::yield();
      lk.lock();
    }
    fn_ = &fn;
    tasks_ = tasks;
    next_.store(0);
    done_.store(0);
    gen_++;
    wake = sleepers_ > 0;
  }
  if (wake) cv_.notify_all();
  for (int t; (t = next_.fetch_add(1)) < tasks;) {
    fn(t);
    done_.fetch_add(1, std::memory_order_release);
  }
  while (done_.load(std::memory_order_acquire) < tasks) relax();
}

}  // namespace qkv
