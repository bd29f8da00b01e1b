// runtime/thread_pool.cpp: workers that take task numbers from the current job's counter.
#include "runtime/thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace jit::rt {

namespace {

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct Job {
  const std::function<void(int64_t)>* fn;
  int64_t n;
  std::atomic<int64_t> next{0};
  // Workers holding the job: joined under the pool's mutex (not after the job is retired),
  // left without it (the caller spins on it, then sleeps).
  std::atomic<int> active{0};

  void work() {
    for (int64_t i; (i = next.fetch_add(1)) < n;) (*fn)(i);
  }
};
}  // namespace

// A worker that finished a job spins this long for the next one before it sleeps: waking a
// sleeping thread costs tens of microseconds (more in a VM), as much as a whole mid-sized call,
// and calls tend to come back to back.
constexpr auto kSpin = std::chrono::microseconds(200);
// The caller waiting for the workers' last tasks spins this long, the last 3/4 yielding.
constexpr auto kCallerSpin = std::chrono::microseconds(40);

struct ThreadPool::Impl {
  std::mutex run_mu;  // one parallel_for at a time
  std::mutex mu;
  std::condition_variable wake, released;
  Job* job = nullptr;                   // the current job, or null (guarded by mu)
  std::atomic<uint64_t> generation{0};  // bumped under mu with each job, read by spinners
  std::atomic<bool> stop{false};
  int sleepers = 0;                     // workers waiting on `wake` (guarded by mu)
  std::vector<std::thread> workers;
};

ThreadPool::ThreadPool() : impl_(new Impl) {
  size_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < size_; ++i)
    impl_->workers.emplace_back([this] {
      uint64_t seen = 0;
      for (;;) {
        Job* job;
        auto until = std::chrono::steady_clock::now() + kSpin;
        while (impl_->generation.load(std::memory_order_acquire) == seen && !impl_->stop.load() &&
               std::chrono::steady_clock::now() < until)
          pause();
        {
          std::unique_lock<std::mutex> lock(impl_->mu);
          ++impl_->sleepers;
          impl_->wake.wait(lock, [&] { return impl_->stop || impl_->generation != seen; });
          --impl_->sleepers;
          if (impl_->stop) return;
          seen = impl_->generation;
          job = impl_->job;
          if (!job) continue;
          ++job->active;
        }
        job->work();
        // The job may be gone once `active` drops to 0 (the caller returns): it is not touched
        // again. The notify is under the mutex, so a caller about to sleep does not miss it.
        if (job->active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          std::lock_guard<std::mutex> lock(impl_->mu);
          impl_->released.notify_all();
        }
      }
    });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  for (std::thread& t : impl_->workers) t.join();
  delete impl_;
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (n == 1 || size_ == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::lock_guard<std::mutex> run(impl_->run_mu);
  Job job;
  job.fn = &fn;
  job.n = n;
  bool sleeping;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->job = &job;
    ++impl_->generation;
    sleeping = impl_->sleepers > 0;
  }
  if (sleeping) impl_->wake.notify_all();  // spinning workers see the generation
  job.work();
  // Every task is taken: retire the job (no worker joins it now), then wait for the workers
  // still running theirs. A sleeping caller's wake-up costs tens of microseconds, more than a
  // mid-sized call's whole parallel part, so it spins first: briefly (a worker's last task
  // ends about when the caller's does), then yielding its core, in case the worker waits for
  // one (other threads may be spinning on the rest: OpenMP's do, after their own jobs).
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->job = nullptr;
  }
  auto start = std::chrono::steady_clock::now();
  while (job.active.load(std::memory_order_acquire) > 0) {
    auto spent = std::chrono::steady_clock::now() - start;
    if (spent > kCallerSpin) break;
    if (spent > kCallerSpin / 4)
      std::this_thread::yield();
    else
      pause();
  }
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->released.wait(lock, [&] { return job.active.load(std::memory_order_acquire) == 0; });
}

}  // namespace jit::rt
