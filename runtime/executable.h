// runtime/executable.h: a batched function ready to run. The interpreter and the LLVM backend
// both provide one; the runtime allocates the outputs and calls run().
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "ir/ir.h"

namespace jit::rt {

struct RunOptions {
  ir::KernelCtx ctx;      // random ops' seed and call number
  int64_t chunk = 0;      // > 0: at most this many samples per kernel invocation
  int threads = 0;        // 0: decide from the amount of work; 1: the calling thread only
};

class Executable {
 public:
  virtual ~Executable() = default;
  // Runs the whole batch. The batched function's parameters are `args` then `captures` (whole
  // batched tensors, any strides); `outputs` are its results, allocated by the caller.
  virtual void run(std::span<const Tensor> args, std::span<const Tensor> captures,
                   std::span<const Tensor> outputs, int64_t batch, const RunOptions& o) const = 0;
  // Whether run() calls the final code: false while a compiled function's quick-tier kernels
  // wait for their optimized replacement.
  virtual bool optimized() const { return true; }
  // Whether some of the values computed once per call are computed once instead (constant
  // captures).
  virtual bool constant_hoisted() const { return false; }
};

// One call's buffers as compiled kernels take them: each buffer's first element and its strides
// in elements, concatenated, arguments first, then captures, then outputs. On the stack for
// the usual few.
class KernelBuffers {
 public:
  KernelBuffers(size_t nbuf, size_t nstrides) {
    if (nbuf > kPtrs) ptr_big_.resize(nbuf), ptrs_ = ptr_big_.data();
    if (nstrides > kStrides) stride_big_.resize(nstrides), strides_ = stride_big_.data();
  }
  KernelBuffers(const KernelBuffers&) = delete;
  KernelBuffers& operator=(const KernelBuffers&) = delete;
  void add(void* data, std::span<const int64_t> strides) {
    ptrs_[np_++] = data;
    for (int64_t s : strides) strides_[ns_++] = s;
  }
  // Where the next buffer's strides go, for the caller to write before add(data, rank).
  int64_t* strides_of_next() { return strides_ + ns_; }
  void add(void* data, size_t rank) {
    ptrs_[np_++] = data;
    ns_ += rank;
  }
  void add(const detail::TensorImpl& t) {
    add(static_cast<char*>(t.base()) + t.offset * dtype_size(t.dtype), t.strides);
  }
  void* const* ptrs() const { return ptrs_; }
  const int64_t* strides() const { return strides_; }

 private:
  static constexpr size_t kPtrs = 16, kStrides = 96;
  void* ptr_small_[kPtrs];
  int64_t stride_small_[kStrides];
  std::vector<void*> ptr_big_;
  std::vector<int64_t> stride_big_;
  void** ptrs_ = ptr_small_;
  int64_t* strides_ = stride_small_;
  size_t np_ = 0, ns_ = 0;
};

// An executable that also runs from raw buffers, skipping the tensors: the cache-hit path
// gathers them while it checks the call.
class PointerExecutable : public Executable {
 public:
  virtual void run_pointers(const KernelBuffers& b, int64_t batch, const RunOptions& o) const = 0;
};

// Runs the function through the reference interpreter, chunk by chunk.
std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& batched);

// The position of the dynamic batch dim in a type, or -1.
int64_t dyn_dim(const ir::Type& t);

}  // namespace jit::rt
