#include "pool.h"

#include <chrono>

namespace qkv {

static inline void relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

using Clock = std::chrono::steady_clock;
// How long a worker keeps looking for the next job before it sleeps: kernel calls of a training
// step follow each other within microseconds, and a wake-up costs tens of them. Past the first
// microseconds it looks with yield(), which hands the core to any other runnable thread (the
// JS thread, or another process on a busy machine) instead of burning it.
static constexpr auto SPIN = std::chrono::microseconds(3);
static constexpr auto LOOK = std::chrono::microseconds(250);
// How long the caller, its own tasks done, waits for the workers' before it sleeps (a worker
// descheduled mid-task then gets the caller's core when the OS balances).
static constexpr auto CALLER_LOOK = std::chrono::microseconds(40);

Pool::Pool(int threads) {
  for (int i = 1; i < threads; i++) workers_.emplace_back([this] { loop(); });
}

Pool::~Pool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    claim_.fetch_add(uint64_t(1) << 32);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void Pool::work(uint32_t gen, const std::function<void(int)>* fn, int tasks) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (uint32_t(c >> 32) != gen || int(uint32_t(c)) >= tasks) return;
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    (*fn)(int(uint32_t(c)));
    // the last task wakes the caller if it went to sleep (seq_cst pairs with run()'s callerWaits_)
    if (done_.fetch_add(1) + 1 == tasks && callerWaits_.load()) {
      std::lock_guard<std::mutex> lk(mu_);
      finished_.notify_one();
    }
    c = claim_.load(std::memory_order_acquire);
  }
}

void Pool::loop() {
  uint32_t seen = 0;
  for (;;) {
    auto jobChanged = [&] { return uint32_t(claim_.load(std::memory_order_acquire) >> 32) != seen; };
    if (!jobChanged()) {
      auto start = Clock::now();
      for (int i = 0; !jobChanged(); i++) {
        if ((i & 31) != 31) { relax(); continue; }
        auto waited = Clock::now() - start;
        if (waited > LOOK) break;
        if (waited > SPIN) std::this_thread::yield();
      }
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (!jobChanged()) {
      sleepers_++;
      wake_.wait(lk, jobChanged);
      sleepers_--;
    }
    if (stop_) return;
    // a job's fields change under the lock only, so these three belong together; if the job
    // has moved on by the time this worker claims, the claim (which checks gen) fails
    seen = uint32_t(claim_.load() >> 32);
    const std::function<void(int)>* fn = fn_.load();
    int tasks = tasks_.load();
    lk.unlock();
    work(seen, fn, tasks);
  }
}

void Pool::run(int tasks, const std::function<void(int)>& fn) {
  if (workers_.empty() || tasks <= 1) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  uint32_t gen;
  bool wake;
  {
    // the previous job is complete (every task done), so no worker can still claim from it
    std::lock_guard<std::mutex> lk(mu_);
    fn_.store(&fn, std::memory_order_relaxed);
    tasks_.store(tasks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    gen = uint32_t(claim_.load() >> 32) + 1;
    claim_.store(uint64_t(gen) << 32, std::memory_order_release);
    wake = sleepers_ > 0;
  }
  if (wake) wake_.notify_all();
  work(gen, &fn, tasks);
  if (done_.load(std::memory_order_acquire) == tasks) return;
  auto start = Clock::now();
  for (int i = 0; done_.load(std::memory_order_acquire) < tasks; i++) {
    if ((i & 31) != 31) { relax(); continue; }
    auto waited = Clock::now() - start;
    if (waited > CALLER_LOOK) break;
    if (waited > SPIN) std::this_thread::yield();
  }
  if (done_.load() == tasks) return;
  std::unique_lock<std::mutex> lk(mu_);
  callerWaits_.store(true);
  finished_.wait(lk, [&] { return done_.load() == tasks; });
  callerWaits_.store(false);
}

}  // namespace qkv
