// runtime/thread_pool.h: a persistent pool of workers for splitting a batch across cores.
#pragma once

#include <cstdint>
#include <functional>

namespace jit::rt {

class ThreadPool {
 public:
  static ThreadPool& instance();  // one worker per hardware thread, the caller being one
  int size() const { return size_; }
  // Runs fn(0) ... fn(n - 1), spread over the workers and the calling thread; returns when all
  // are done. Calls from several threads at once are serialised.
  void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);

 private:
  ThreadPool();
  ~ThreadPool();
  struct Impl;
  Impl* impl_;
  int size_;
};

}  // namespace jit::rt
