#include "pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

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
// Busy machine: the share of each window of WINDOW the calling thread spent runnable but
// waiting for a CPU (its run delay, which the OS counts), averaged over about the last
// 1/EMA_WEIGHT windows; busy once the average passes BUSY_ABOVE, quiet again below QUIET_BELOW.
// Measured on 2 cores (share of a 5 ms window): beside a CPU-bound process the caller waits 14%
// on average with spinning workers and over 25% in most windows with sleeping ones; on a quiet
// machine about 1%, with a lone window of 25-100% now and then (Node's compiler and GC threads
// beside a spinning worker), which the average absorbs. Involuntary switches, the earlier
// signal, fire on a quiet machine too; so did one delayed window (held busy for 200 ms).
static constexpr int64_t WINDOW_US = 5000;
static constexpr double EMA_WEIGHT = 0.1, BUSY_ABOVE = 0.12, QUIET_BELOW = 0.05;
// While busy, how long the caller runs a job alone before it wakes the workers: a job shorter
// than this is done about as soon by the caller alone, and shares no core time (a woken worker
// takes its share of a core from someone: the spinning process, or the caller itself).
static constexpr int64_t WAKE_AFTER_US = 50;

/** Opens the calling thread's scheduler counters (Linux /proc/thread-self/schedstat); -1 where there are none. */
static int openSchedstat() {
#if defined(__linux__)
  return open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
#else
  return -1;
#endif
}

/** The run delay so far (µs) from schedstat ("<ns on CPU> <ns waiting for a CPU> <slices>"); -1 on failure. */
static int64_t runDelayUs(int fd) {
  char buf[96];
  ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* rest = nullptr;
  std::strtoull(buf, &rest, 10);
  return (int64_t)(std::strtoull(rest, nullptr, 10) / 1000);
}

static int64_t nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

enum Policy { OFF, AUTO, SLEEP, SERIAL, FORCED };

/**
 * QKV_POOL_BUSY forces a policy, read when a pool starts:
 *   auto (the default): detect a busy machine; while busy, workers sleep after each job and the
 *     caller wakes them only once a job has run WAKE_AFTER_US alone with tasks left;
 *   forced: auto's busy path always (tests, and timing it on a quiet machine);
 *   sleep: detect; while busy, workers sleep after each job and every job wakes them at once
 *     (slower on many short jobs: each waits for a wake-up);
 *   serial: detect; while busy, the caller runs every job alone;
 *   off: never look (workers spin, then yield, then sleep between jobs).
 */
static int busyPolicy() {
  const char* e = std::getenv("QKV_POOL_BUSY");
  if (!e || !*e || !std::strcmp(e, "auto")) return AUTO;
  if (!std::strcmp(e, "off")) return OFF;
  if (!std::strcmp(e, "sleep")) return SLEEP;
  if (!std::strcmp(e, "serial")) return SERIAL;
  if (!std::strcmp(e, "forced")) return FORCED;
  return AUTO;
}

/** QKV_POOL_WAKE_US overrides WAKE_AFTER_US (for tuning it: scripts/busy-ab.mjs). */
static int64_t wakeAfterUs() {
  const char* e = std::getenv("QKV_POOL_WAKE_US");
  return e && *e ? std::atoll(e) : WAKE_AFTER_US;
}

Pool::Pool(int threads) : policy_(busyPolicy()), wakeAfter_(std::chrono::microseconds(wakeAfterUs())) {
  busy_.store(policy_ == FORCED);
  // the pool starts on the thread that will call run() (the JS thread): its counters
  if (policy_ != OFF && policy_ != FORCED) schedstat_ = openSchedstat();
  callerDelay_ = runDelayUs(schedstat_);
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
  if (schedstat_ >= 0) close(schedstat_);
}

void Pool::work(uint32_t gen, const std::function<void(int)>* fn, int tasks, Clock::time_point wakeAt) {
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
    // a job the caller started alone has shown it is long: the workers take the tasks left
    if (wakeAt != Clock::time_point::max() && uint32_t(c >> 32) == gen && int(uint32_t(c)) < tasks && Clock::now() >= wakeAt) {
      wakeAt = Clock::time_point::max();
      stats_.lateWakes++;
      wakeWorkers();
    }
  }
}

void Pool::wakeWorkers() {
  bool any;
  {
    std::lock_guard<std::mutex> lk(mu_);
    any = sleepers_ > 0;
  }
  if (any) wake_.notify_all();
}

void Pool::watch() {
  if (schedstat_ < 0) return;
  const int64_t now = nowUs();
  if (now - windowStart_ < WINDOW_US) return;
  const int64_t delay = runDelayUs(schedstat_);
  const double share = std::min(1.0, double(delay - callerDelay_) / double(now - windowStart_));
  callerDelay_ = delay;
  windowStart_ = now;
  waitShare_ += EMA_WEIGHT * (std::max(0.0, share) - waitShare_);
  const bool busy = this->busy() ? waitShare_ >= QUIET_BELOW : waitShare_ > BUSY_ABOVE;
  busy_.store(busy, std::memory_order_relaxed);
  stats_.windows++;
  if (busy) stats_.busyWindows++;
}

void Pool::loop() {
  uint32_t seen = 0;
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
  }
}

void Pool::run(int tasks, const std::function<void(int)>& fn) {
  if (!workers_.empty()) watch();
  const bool busy = this->busy();
  if (workers_.empty() || tasks <= 1 || (policy_ == SERIAL && busy)) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  stats_.jobs++;
  if (busy) stats_.busyJobs++;
  const auto began = Clock::now();
  // busy, auto: the caller starts alone, the workers stay asleep until wakeAt (see work)
  const bool late = busy && (policy_ == AUTO || policy_ == FORCED);
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
    wake = sleepers_ > 0 && !late;
  }
  if (wake) wake_.notify_all();
  work(gen, &fn, tasks, late ? began + wakeAfter_ : Clock::time_point::max());
  const auto drained = Clock::now();
  if (done_.load(std::memory_order_acquire) < tasks) waitForWorkers(tasks, busy);
  const auto end = Clock::now();
  const auto us = [](Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); };
  stats_.jobUs += us(end - began);
  stats_.waitUs += us(end - drained);
}

void Pool::waitForWorkers(int tasks, bool busy) {
  // spinning, then yielding, gives a worker that is a moment from done a fast return; on a busy
  // machine the caller sleeps at once, so a worker preempted mid-task gets its core
  const auto start = Clock::now();
  for (int i = 0; !busy && done_.load(std::memory_order_acquire) < tasks; i++) {
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
