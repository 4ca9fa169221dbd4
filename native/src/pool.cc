#include "pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <time.h>
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
// Busy machine: other processes take the cores the pool's threads would use. Every WINDOW the
// pool reads the CPU time every process used (the machine's, from its idle time) less its own
// (every thread of this process: Node's compiler and GC threads are no one else), in cores,
// averaged over about the last 1/EMA_WEIGHT windows; busy once more than BUSY_ABOVE cores beyond
// the ones the pool leaves free (cores - threads) are taken, quiet again below QUIET_BELOW. Unlike
// the caller's run delay (the earlier signal), this does not depend on what the pool itself does:
// workers asleep while busy leave the caller on a core of its own, its run delay falls and the pool
// turns quiet, wakes its workers, turns busy again (QKV_POOL_BUSY=serial on 2 cores beside a
// spinning process: 40-60% of a training step's windows read quiet; with this signal none).
// Linux's idle time counts in 10 ms, hence windows of 25 ms and the average.
static constexpr int64_t WINDOW_US = 25000;
static constexpr double EMA_WEIGHT = 0.25, BUSY_ABOVE = 0.5, QUIET_BELOW = 0.25;
// While busy, how long the caller runs a job alone before it wakes the workers: a job shorter
// than this is done about as soon by the caller alone, and shares no core time (a woken worker
// takes its share of a core from someone: the spinning process, or the caller itself).
static constexpr int64_t WAKE_AFTER_US = 50;

/** The machine's idle CPU time so far (µs, all CPUs; Linux /proc/uptime's second field, in 10 ms); -1 where there is none. */
static int64_t idleUs(int fd) {
  char buf[96];
  ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* rest = nullptr;
  std::strtod(buf, &rest);
  return (int64_t)(std::strtod(rest, nullptr) * 1e6);
}

/** This process's CPU time so far (µs, all its threads). */
static int64_t selfCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/** QKV_POOL_WAKE_US overrides WAKE_AFTER_US (for tuning it: scripts/busy-probe.mjs). */
static int64_t wakeAfterUs() {
  const char* e = std::getenv("QKV_POOL_WAKE_US");
  return e && *e ? std::atoll(e) : WAKE_AFTER_US;
}

Pool::Pool(int threads) : policy_(busyPolicy()), wakeAfter_(std::chrono::microseconds(wakeAfterUs())) {
  busy_.store(policy_ == FORCED);
#if defined(__linux__)
  if (policy_ != OFF && policy_ != FORCED && threads > 1) uptime_ = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
#endif
  cores_ = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  idle_ = idleUs(uptime_);
  selfCpu_ = selfCpuUs();
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
  if (uptime_ >= 0) close(uptime_);
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
  if (uptime_ < 0) return;
  const int64_t now = nowUs();
  if (now - windowStart_ < WINDOW_US) return;
  const int64_t idle = idleUs(uptime_), self = selfCpuUs();
  // cores busy in the window, less this process's
  const double wall = double(now - windowStart_);
  const double others = (double(cores_) * wall - double(idle - idle_) - double(self - selfCpu_)) / wall;
  idle_ = idle;
  selfCpu_ = self;
  windowStart_ = now;
  others_ += EMA_WEIGHT * (std::max(0.0, others) - others_);
  // the cores the pool's threads do not need may be taken
  const double taken = others_ - double(std::max(0, cores_ - threads()));
  const bool busy = this->busy() ? taken >= QUIET_BELOW : taken > BUSY_ABOVE;
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
