// jit/vmap.h: jit::vmap, torch.vmap's semantics compiled.
//
//   auto batched = jit::vmap(model);                     // in_dims = 0, out_dims = 0
//   auto bdot    = jit::vmap(jit::dot, {1, 1});           // per-argument in_dims
//   auto f2      = jit::vmap(g, {0, jit::none}, {1});     // an unmapped argument; out_dims
//   auto f3      = jit::vmap(h, 0, 0, {.randomness = jit::Randomness::Different,
//                                      .chunk_size = 1024});
//   jit::Tensor y = batched(xs);  // traced and compiled on the first call for this signature
//
// The first call with a new signature (per-sample shapes and dtypes, in_dims, non-tensor
// arguments) traces the function on symbolic per-sample tensors, batches the IR and compiles it;
// later calls with any batch size reuse the compiled code. Called inside another traced
// function (a nested vmap, grad of a vmap), it is traced inline instead.
#pragma once

#include "jit/transform.h"

namespace jit {

enum class Randomness {
  Error,      // a random op inside the function throws jit::Error (the default, as torch)
  Different,  // each sample draws its own values
  Same,       // one draw is shared by every sample
};

enum class Backend {
  Compiled,     // LLVM-compiled kernels (the default)
  Interpreter,  // the reference interpreter (the oracle; slow)
};

// How a new signature's kernel is compiled. The tiers compute the same bits; only the time to
// the first result and the speed of the code differ.
enum class Tiering {
  // The first call compiles quickly with little optimization (about an eighth of the time; the
  // code runs 2-10x slower), and a background thread compiles the optimized kernel, which later
  // calls use once it is installed (jit::wait_for_compiles() waits for that).
  Background,
  Optimized,  // the first call compiles the optimized kernel itself; nothing runs in background
  Quick,      // quick compiles only
};

struct VmapOptions {
  Randomness randomness = Randomness::Error;
  int64_t chunk_size = 0;  // > 0: run that many samples at a time; same results
  Backend backend = Backend::Compiled;
  int threads = 0;         // 0: the runtime decides; 1: the calling thread only
  std::string name;        // the function's name in errors and dumps
  // An op without a batching rule (none today) runs once per sample, which makes the batch
  // size part of the signature and is counted in CacheStats::fallbacks; false: an error.
  bool per_sample_fallback = true;
  bool fuse = true;  // false: every intermediate goes through memory (for testing fusion)
  Tiering tiering = Tiering::Background;
  // true: the tensors the function captures are constants (a service's weights), not written
  // after the first call. What the compiled code computes from them alone, otherwise once per
  // call (weights packed for a contraction), is computed by the first call and kept; a capture
  // written anyway may be seen by later calls with its old values, its new ones, or a mix.
  // Per-call work stays per call: anything computed from an argument, random draws, index
  // checks, and what depends on them (a weight scaled by an unmapped argument is packed every
  // call; the kernel's other captured weights are still packed once). A value the captures
  // determine that would be computed inline in per-call work is stored instead, which may
  // change the order of a sum over it: results within rounding of the default's, the same bits
  // from call to call.
  bool constant_captures = false;
  // true: on a machine with FMA, an elementwise a * b + c whose product has no other use is
  // computed with one rounding, as XLA does on CPU and GCC for C++ by default: faster, each such
  // op at least as accurate (though x * x - y * y with x == y is then a rounding error, not 0).
  // false: elementwise ops round one by one as the traced program reads. (Sums of products, a
  // dot product's or sum(x * y), accumulate with FMA either way.) Where a transform is traced
  // inside another, the outermost one's option applies.
  bool fp_contract = true;
};

namespace detail {
std::shared_ptr<TransformState> make_vmap_state(DimSpec in_dims, DimSpec out_dims, VmapOptions o);
}

template <class F>
Transformed<std::decay_t<F>> vmap(F&& f, DimSpec in_dims = 0, DimSpec out_dims = 0,
                                  VmapOptions options = {}) {
  return {std::forward<F>(f), detail::make_vmap_state(std::move(in_dims), std::move(out_dims),
                                                      std::move(options))};
}

namespace detail {
std::shared_ptr<TransformState> make_compile_state(VmapOptions o);
}

// f traced once per signature and compiled, without batching: the same caching and fast path
// as vmap. (Options other than backend, name, fuse, tiering, constant_captures and fp_contract
// do not apply.)
template <class F>
Transformed<std::decay_t<F>> compile(F&& f, VmapOptions options = {}) {
  return {std::forward<F>(f), detail::make_compile_state(std::move(options))};
}

// Statistics of a transformed function's cache (for tests and tuning).
struct CacheStats {
  int64_t compiles = 0;  // signatures traced and compiled
  int64_t hits = 0;      // calls served by an existing kernel
  int64_t entries = 0;
  int64_t fallbacks = 0; // ops batched by the per-sample fallback, over all compiles
  int64_t optimized = 0; // entries running their optimized kernels (see Tiering)
  int64_t constant = 0;  // entries computing some once-per-call values once (constant_captures)
};

// Returns when every background compile started so far (Tiering::Background) has installed
// its kernels: for benchmarks, and for a service that wants its steady-state speed before it
// takes traffic.
void wait_for_compiles();
namespace detail {
CacheStats cache_stats(const TransformState& s);
}
template <class F, class R>
CacheStats cache_stats(const Transformed<F, R>& f) {
  return detail::cache_stats(*f.state());
}

}  // namespace jit
