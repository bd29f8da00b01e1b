// runtime/compiled_executable.cpp: runs compiled kernels. The prologue computes the hoisted
// values once per call (once per thread, on a call split over threads), the fixed ones (from
// constant captures alone) once per executable; the body's batch range is split into chunks
// over the thread pool. Hoisted and scratch memory are per thread and reused from call to call
// (the fixed values: the executable's, read by every thread).
#include "runtime/compiled_executable.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>

#include "codegen/emitter.h"
#include "runtime/thread_pool.h"

namespace jit::rt {
namespace {

// Memory a thread reuses across calls (it only grows), or an executable's fixed block.
struct Arena {
  void* p = nullptr;
  size_t n = 0;
  void* get(size_t bytes) {
    if (bytes > n) {
      std::free(p);
      n = (bytes + 4095) / 4096 * 4096;
      p = std::aligned_alloc(64, n);
      if (!p) {
        n = 0;
        throw Error(ErrorKind::OutOfMemory, fmt::format("cannot allocate {} bytes of kernel scratch memory", bytes));
      }
    }
    return p;
  }
  ~Arena() { std::free(p); }
};
// initial-exec: a thread-local in a shared library without a __tls_get_addr call per access.
__attribute__((tls_model("initial-exec"))) thread_local Arena t_hoisted, t_scratch;
// The split call whose hoisted values this thread's t_hoisted holds (0: none).
__attribute__((tls_model("initial-exec"))) thread_local uint64_t t_hoisted_call = 0;
std::atomic<uint64_t> g_split_calls{0};

constexpr int64_t kParallelWork = int64_t(1) << 16;  // elements touched per call worth a second thread
// What each hoisted element adds to that: a second thread computes the hoisted values (packed
// weights) again, in its own memory, before it starts. MLP inference (37 KB of packed weights
// when this was measured; 40 since its 10-output weight's rows are padded), one thread against
// two: batch 8, 2.7 and 3.4 us; 12, 3.75 and 3.8; 16, 4.2 and 3.8; 32, 7.4 and 5.4 (when the
// second thread read the first one's values: 4.1 and 4.8 at 16, and this was 16). relu(dot),
// nothing hoisted, gains from 512.
constexpr int64_t kHoistedWork = 6;

class CompiledExecutable : public PointerExecutable {
 public:
  CompiledExecutable(const ir::Function& f, const cg::Schedule& s, std::shared_ptr<const KernelSlot> kernels)
      : kernels_(std::move(kernels)), hoisted_(s.hoisted_bytes), scratch_(s.scratch_bytes) {
    // A sample's work: the elements each body group writes and reads from memory, through its
    // inline ops (a contraction or reduction reads many elements per one it writes, also under
    // an elementwise root; an unbatched weight counts in full).
    auto elements = [&](ir::ValueId v) { return ir::checked_numel(ir::resolve(f.type(v).shape, 1)); };
    for (const cg::Group& g : s.body) {
      work_per_sample_ += elements(g.root);
      std::vector<ir::ValueId> todo{g.root};
      std::vector<bool> seen(f.num_values());
      while (!todo.empty()) {
        ir::ValueId v = todo.back();
        todo.pop_back();
        if (f.is_param(v)) continue;
        for (ir::ValueId o : f.node_of(v).operands) {
          if (seen[o]) continue;
          seen[o] = true;
          if (f.is_param(o) || s.buffer_of[o] >= 0)
            work_per_sample_ += elements(o);
          else
            todo.push_back(o);
        }
      }
    }
    work_per_sample_ = std::max<int64_t>(work_per_sample_, 1);
    parallel_work_ = kParallelWork + kHoistedWork * static_cast<int64_t>(s.hoisted_bytes / 4);
    // A call of no samples needs the prologue only for what it writes besides hoisted values:
    // an unbatched output, or the error flag of an index out of range.
    for (const cg::Group& g : s.prologue)
      prologue_at_batch0_ |= s.buffers[g.buffer].kind == cg::BufKind::Output;
    for (const ir::Node& n : f.nodes)
      prologue_at_batch0_ |= !n.type.has_dyn() && (n.op == ir::OpId::IndexSelect || n.op == ir::OpId::Gather ||
                                                   n.op == ir::OpId::ScatterAdd);
    // Constant captures: hoisted values that the captured tensors alone determine are computed
    // once, into the executable's own memory, which every thread then reads (read only, its
    // lines stay in each core's cache).
    if (!s.fixed.empty()) fixed_block_.get(s.fixed_bytes);
  }

  void run(std::span<const Tensor> args, std::span<const Tensor> captures,
           std::span<const Tensor> outputs, int64_t batch, const RunOptions& o) const override {
    size_t nstrides = 0;
    for (const auto* list : {&args, &captures, &outputs})
      for (const Tensor& t : *list) nstrides += t.impl_ptr()->strides.size();
    KernelBuffers b(args.size() + captures.size() + outputs.size(), nstrides);
    for (const auto* list : {&args, &captures, &outputs})
      for (const Tensor& t : *list) b.add(*t.impl_ptr());
    run_pointers(b, batch, o);
  }

  void run_pointers(const KernelBuffers& b, int64_t batch, const RunOptions& o) const override {
    int32_t error = 0;
    const KernelFns& fns = kernels_->current();  // one tier for the whole call
    void* hoisted = hoisted_ ? t_hoisted.get(hoisted_) : nullptr;
    cg::KernelArgs kargs{b.ptrs(), b.strides(), hoisted, nullptr, o.ctx.seed, o.ctx.call, batch, &error, fixed_block_.p};
    // Before anything that may read them (a prologue that runs without samples too).
    if (fixed_block_.p && (batch > 0 || prologue_at_batch0_)) compute_fixed(fns, kargs);
    int threads = 1;
    int64_t chunk = batch, tasks = 1;
    if (batch > 0) {
      threads = o.threads > 0 ? o.threads
                : batch * work_per_sample_ >= parallel_work_ ? ThreadPool::instance().size() : 1;
      // One thread takes the whole batch as one chunk: no division on the usual small call.
      chunk = o.chunk > 0 ? std::min(o.chunk, batch) : threads == 1 ? batch : (batch + threads - 1) / threads;
      tasks = chunk == batch ? 1 : (batch + chunk - 1) / chunk;
    }
    bool split = threads > 1 && tasks > 1;
    // Split over threads, a prologue that writes hoisted values only runs on each thread, into
    // its own memory, before its first chunk. Written on one core and read on the other, the
    // values crossed between the cores' caches every call: pairwise distances' 32 KB pack
    // took 0.74 us on one thread and 5.3 us with a second reading it. (Without
    // prologue_at_batch0_, it writes no output and cannot report a bad index.)
    bool own_prologue = split && fns.prologue && !prologue_at_batch0_;
    if (fns.prologue && (batch > 0 || prologue_at_batch0_) && !own_prologue) fns.prologue(&kargs);
    if (batch > 0) {
      if (split) {
        uint64_t call = g_split_calls.fetch_add(1, std::memory_order_relaxed) + 1;
        std::mutex failure_mu;
        std::exception_ptr failure;
        ThreadPool::instance().parallel_for(tasks, [&](int64_t i) {
          try {
            cg::KernelArgs a = kargs;  // each thread its own scratch (and hoisted values)
            a.scratch = scratch_ ? t_scratch.get(scratch_) : nullptr;
            if (own_prologue) {
              a.hoisted = t_hoisted.get(hoisted_);
              if (t_hoisted_call != call) {
                fns.prologue(&a);
                t_hoisted_call = call;
              }
            }
            fns.body(&a, i * chunk, std::min(batch, (i + 1) * chunk));
          } catch (...) {  // an arena that cannot grow, on a worker: rethrown by the caller
            std::lock_guard<std::mutex> lock(failure_mu);
            if (!failure) failure = std::current_exception();
          }
        });
        if (failure) std::rethrow_exception(failure);
      } else {
        // In place, not a copy: copying the block just written (16-byte loads of 8-byte
        // stores, which the store buffer cannot forward) stalled the usual small call.
        kargs.scratch = scratch_ ? t_scratch.get(scratch_) : nullptr;
        for (int64_t i = 0; i < tasks; ++i) fns.body(&kargs, i * chunk, std::min(batch, (i + 1) * chunk));
      }
    }
    if (error)
      throw Error(ErrorKind::InvalidArgument,
                  "an index passed to index_select, gather or scatter_add is out of range");
  }

  bool optimized() const override { return kernels_->optimized(); }
  bool constant_hoisted() const override { return fixed_block_.p != nullptr; }

 private:
  // The fixed values (constant captures'), computed by the first call that runs a kernel (by
  // the tier it runs: the tiers' values have the same bits) into the block the constructor
  // allocated. Nothing in it throws: after a callable that threw, libstdc++'s call_once would
  // leave every later call waiting (GCC bug 66146).
  void compute_fixed(const KernelFns& fns, cg::KernelArgs& a) const {
    std::call_once(fixed_once_, [&]() noexcept { fns.fixed(&a); });
  }

  std::shared_ptr<const KernelSlot> kernels_;
  size_t hoisted_, scratch_;
  int64_t work_per_sample_ = 0;
  int64_t parallel_work_ = 0;  // a call's work from which a second thread helps
  bool prologue_at_batch0_ = false;
  mutable std::once_flag fixed_once_;
  Arena fixed_block_;  // the fixed values (constant captures), when there are any: allocated by the constructor
};

}  // namespace

std::unique_ptr<Executable> make_compiled_executable(const ir::Function& batched, const cg::Schedule& s,
                                                     std::shared_ptr<const KernelSlot> kernels) {
  return std::make_unique<CompiledExecutable>(batched, s, std::move(kernels));
}

}  // namespace jit::rt
