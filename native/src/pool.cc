#include "pool.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>

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
// Busy machine: the involuntary switches are summed over windows of WINDOW; one switch marks the
// machine busy for HOLD after it (a quiet machine switches a thread out involuntarily about never).
static constexpr int64_t WINDOW_US = 5000;
static constexpr int64_t HOLD_US = 200000;

/** Involuntary context switches of the calling thread so far (0 where the OS does not count them). */
static long involuntarySwitches() {
#if defined(RUSAGE_THREAD)
  struct rusage r;
  if (getrusage(RUSAGE_THREAD, &r) == 0) return r.ru_nivcsw;
#endif
  return 0;
}

static int64_t nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

/**
 * QKV_POOL_BUSY: "sleep" (workers sleep between jobs while busy), "serial" (the caller alone while
 * busy), else off (never look: the spinning policy). Off by default: on a machine loaded by other
 * jobs "sleep" made the baby GPT's training step faster (0.46-1.05x one thread's time, against
 * 0.85-1.36x spinning) but the inference rows' many short jobs slower (each wakes a sleeping worker).
 */
static int busyPolicy() {
  const char* e = std::getenv("QKV_POOL_BUSY");
  if (e && !std::strcmp(e, "sleep")) return 1;
  if (e && !std::strcmp(e, "serial")) return 2;
  return 0;
}

Pool::Pool(int threads) : policy_(busyPolicy()) {
  watchBusy_ = policy_ != 0;
  callerSwitches_ = involuntarySwitches();
  windowStart_ = nowUs();
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

void Pool::watch() {
  const int64_t now = nowUs();
  if (now - windowStart_ < WINDOW_US) return;
  const long mine = involuntarySwitches();
  const long switches = mine - callerSwitches_ + workerSwitches_.exchange(0, std::memory_order_relaxed);
  callerSwitches_ = mine;
  windowStart_ = now;
  if (switches > 0) busySeen_ = now;
  busy_.store(busySeen_ && now - busySeen_ < HOLD_US, std::memory_order_relaxed);
}

void Pool::loop() {
  uint32_t seen = 0;
  long switches = watchBusy_ ? involuntarySwitches() : 0;
  for (;;) {
    auto jobChanged = [&] { return uint32_t(claim_.load(std::memory_order_acquire) >> 32) != seen; };
    // while the machine is busy a worker sleeps at once: its spinning would take the caller's CPU time
    if (!jobChanged() && !busy()) {
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
    if (watchBusy_) {
      const long now = involuntarySwitches();
      if (now != switches) workerSwitches_.fetch_add(now - switches, std::memory_order_relaxed);
      switches = now;
    }
  }
}

void Pool::run(int tasks, const std::function<void(int)>& fn) {
  if (watchBusy_ && !workers_.empty()) watch();
  if (workers_.empty() || tasks <= 1 || (policy_ == 2 && busy())) {
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
  for (int i = 0; !busy() && done_.load(std::memory_order_acquire) < tasks; i++) {
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
