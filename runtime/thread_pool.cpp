// runtime/thread_pool.cpp: workers that take task numbers from the current job's counter.
#include "runtime/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace jit::rt {

namespace {
struct Job {
  const std::function<void(int64_t)>* fn;
  int64_t n;
  std::atomic<int64_t> next{0};
  int active = 0;  // workers holding the job (guarded by the pool's mutex)

  void work() {
    for (int64_t i; (i = next.fetch_add(1)) < n;) (*fn)(i);
  }
};
}  // namespace

struct ThreadPool::Impl {
  std::mutex run_mu;  // one parallel_for at a time
  std::mutex mu;
  std::condition_variable wake, released;
  Job* job = nullptr;  // the current job, or null
  uint64_t generation = 0;
  bool stop = false;
  std::vector<std::thread> workers;
};

ThreadPool::ThreadPool() : impl_(new Impl) {
  size_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < size_; ++i)
    impl_->workers.emplace_back([this] {
      uint64_t seen = 0;
      for (;;) {
        Job* job;
        {
          std::unique_lock<std::mutex> lock(impl_->mu);
          impl_->wake.wait(lock, [&] { return impl_->stop || impl_->generation != seen; });
          if (impl_->stop) return;
          seen = impl_->generation;
          job = impl_->job;
          if (!job) continue;
          ++job->active;
        }
        job->work();
        std::lock_guard<std::mutex> lock(impl_->mu);
        if (--job->active == 0) impl_->released.notify_all();
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
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->job = &job;
    ++impl_->generation;
  }
  impl_->wake.notify_all();
  job.work();
  // Every task is taken; wait for the workers still running theirs, then retire the job.
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->job = nullptr;
  impl_->released.wait(lock, [&] { return job.active == 0; });
}

}  // namespace jit::rt
