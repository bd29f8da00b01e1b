// runtime/vmap.cpp: jit::vmap's runtime. A call checks its arguments, finds the compiled
// function for its signature (tracing, batching and compiling it on a miss), allocates the
// outputs and runs the batch. Called while another function is being traced, it traces inline.
//
// The cache-hit fast path: the last signature used is compared in place with the call's
// arguments (no key is built, nothing is hashed or locked), and the kernel runs directly.
#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "frontend/dispatch.h"
#include "frontend/views.h"
#include "runtime/pipeline.h"
#include "trace/trace.h"
#include "transforms/vmap.h"
#include "jit/vmap.h"

namespace jit::detail {

void throw_non_tensor_output(size_t index, const char* type) {
  throw Error(ErrorKind::InvalidArgument,
              fmt::format("output {} of a transformed function is not a jit::Tensor (it is a "
                          "'{}'); return a Tensor, a tuple of Tensors or a std::vector<Tensor>",
                          index, type));
}

std::vector<Tensor> TransformState::call_into(const CallArgs& args, TraceBody body,
                                             std::span<const Tensor> outputs) {
  std::vector<Tensor> r = call(args, body);
  if (r.size() != outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{} output buffers given for {} outputs", outputs.size(), r.size()));
  for (size_t i = 0; i < r.size(); ++i) {
    if (outputs[i].shape() != r[i].shape() || outputs[i].dtype() != r[i].dtype())
      throw Error(ErrorKind::Shape, fmt::format("output buffer {} is {} but output {} is {}", i,
                                                describe(outputs[i]), i, describe(r[i])));
    copy_into(outputs[i], r[i]);
  }
  return {outputs.begin(), outputs.end()};
}

namespace {

struct KeyHash {
  size_t operator()(const std::vector<int64_t>& k) const {
    size_t h = k.size();
    for (int64_t x : k) h = h * 0x100000001b3ull ^ static_cast<size_t>(x);
    return h;
  }
};

// A call's arguments, checked: the normalised in_dim of each tensor argument (-1: not mapped)
// and the batch size.
struct Resolved {
  std::vector<int64_t> in_dims;
  int64_t batch = 0;
};

// The signature's key, written by one function for both building and in-place comparison: the
// argument kinds, each tensor's dtype, in_dim, rank, contiguity and per-sample dims, the
// non-tensor arguments, and the caller's output buffers' contiguity.
template <class Sink>
void write_key(Sink&& put, const CallArgs& args, const int64_t* in_dims,
               std::span<const Tensor> outputs) {
  for (uint8_t t : args.is_tensor) put(t);
  for (size_t i = 0; i < args.tensors.size(); ++i) {
    const Tensor& x = args.tensors[i];
    const detail::TensorImpl& impl = *x.impl_ptr();
    put(static_cast<int64_t>(impl.dtype));
    put(in_dims[i]);
    put(static_cast<int64_t>(impl.shape.size()));
    put(x.is_contiguous());
    for (int64_t d = 0; d < static_cast<int64_t>(impl.shape.size()); ++d)
      if (d != in_dims[i]) put(impl.shape[d]);
  }
  for (int64_t s : args.statics) put(s);
  put(static_cast<int64_t>(outputs.size()));
  for (const Tensor& o : outputs) put(o.is_contiguous());
}

// What one signature compiles to.
struct Entry {
  std::vector<int64_t> key;
  std::vector<int64_t> in_dims;  // per tensor argument
  ir::Function batched;
  std::vector<Tensor> captures;
  bool uses_rng = false;
  std::unique_ptr<rt::Executable> exec;
};

class VmapState : public TransformState {
 public:
  VmapState(DimSpec in, DimSpec out, VmapOptions o)
      : in_(std::move(in)), out_(std::move(out)), opts_(std::move(o)),
        context_(fmt::format("vmap({})", opts_.name.empty() ? "function" : opts_.name)) {
    if (opts_.chunk_size < 0)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: chunk_size must be positive, got {}", context_, opts_.chunk_size));
  }

  std::vector<Tensor> call(const CallArgs& args, TraceBody body) override {
    return call_into(args, body, {});
  }

  std::vector<Tensor> call_into(const CallArgs& args, TraceBody body,
                                std::span<const Tensor> outputs) override {
    if (!Trace::current()) {
      int64_t batch;
      Entry* e = last_.load(std::memory_order_acquire);
      if (e && matches(*e, args, outputs, &batch)) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        return run(*e, args, batch, outputs);
      }
    }
    Resolved r = resolve(args);
    if (Trace::current()) {
      if (!outputs.empty())
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: output buffers cannot be given while tracing", context_));
      return call_inline(args, r, body);
    }
    std::vector<int64_t> key;
    write_key([&](int64_t v) { key.push_back(v); }, args, r.in_dims.data(), outputs);
    Entry* e = lookup(std::move(key), args, r, body, outputs);
    last_.store(e, std::memory_order_release);
    return run(*e, args, r.batch, outputs);
  }

  CacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {compiles_, hits_.load(), static_cast<int64_t>(cache_.size())};
  }

 private:
  // The call fits the entry: same key, and the mapped arguments agree on a batch size.
  static bool matches(const Entry& e, const CallArgs& args, std::span<const Tensor> outputs,
                      int64_t* batch) {
    if (args.tensors.size() != e.in_dims.size()) return false;
    int64_t b = -1;
    for (size_t i = 0; i < args.tensors.size(); ++i) {
      const Tensor& x = args.tensors[i];
      if (!x.defined() || x.is_symbolic()) return false;
      int64_t d = e.in_dims[i];
      if (d < 0) continue;
      if (d >= x.dim()) return false;
      int64_t s = x.shape()[d];
      if (b >= 0 && s != b) return false;
      b = s;
    }
    size_t k = 0;
    bool same = true;
    write_key([&](int64_t v) { same = same && k < e.key.size() && e.key[k++] == v; }, args,
              e.in_dims.data(), outputs);
    *batch = b;
    return same && k == e.key.size();
  }

  // in_dims per tensor argument; the batch size they agree on.
  Resolved resolve(const CallArgs& args) const {
    size_t n = args.is_tensor.size();
    if (!in_.is_uniform() && in_.each().size() != n)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: in_dims has {} entries but the function was called with {} "
                              "argument{}", context_, in_.each().size(), n, n == 1 ? "" : "s"));
    Resolved r;
    std::string sizes;
    int64_t batch = -1;
    bool mismatch = false;
    for (size_t i = 0, t = 0; i < n; ++i) {
      std::optional<int64_t> d = in_.is_uniform() ? in_.uniform() : in_.each()[i].value();
      if (!args.is_tensor[i]) {
        if (d && !in_.is_uniform())
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: in_dims[{}] = {} but argument {} is not a tensor; only "
                                  "tensors can be mapped (use jit::none)", context_, i, *d, i));
        continue;
      }
      const Tensor& x = args.tensors[t++];
      if (!x.defined())
        throw Error(ErrorKind::InvalidArgument, fmt::format("{}: argument {} is an undefined tensor", context_, i));
      if (d) {
        int64_t rank = x.dim();
        if (rank == 0 || *d < -rank || *d >= rank)
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: in_dims[{}] = {} is out of range for argument {} of shape "
                                  "{} (rank {}{})", context_, i, *d, i, describe(x), rank,
                                  rank ? fmt::format(", so dims in [{}, {}]", -rank, rank - 1)
                                       : ": a scalar has no dim to map over"));
        d = *d < 0 ? *d + rank : *d;
        int64_t size = x.shape()[*d];
        sizes += fmt::format("{}argument {} ({}, in_dim {}) has {}", sizes.empty() ? "" : ", ", i,
                             describe(x), *d, size);
        if (batch >= 0 && size != batch) mismatch = true;
        batch = batch < 0 ? size : batch;
      }
      r.in_dims.push_back(d.value_or(-1));
    }
    if (batch < 0)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: no argument is mapped (in_dims are all none); at least one "
                              "tensor argument must have a batch dim", context_));
    if (mismatch)
      throw Error(ErrorKind::BatchSize,
                  fmt::format("{}: mapped arguments have different batch sizes: {}", context_, sizes));
    r.batch = batch;
    return r;
  }

  struct Traced {
    ir::Function f;
    ir::VmapSpec spec;
    std::vector<Tensor> captures;
  };

  // Traces the per-sample function and says how to batch it (batch: kDyn, or static inline).
  Traced trace(const CallArgs& args, const Resolved& r, TraceBody body, int64_t batch) const {
    auto tr = std::make_shared<Trace>(opts_.name.empty() ? "function" : opts_.name);
    std::vector<Tensor> sym;
    for (size_t i = 0; i < args.tensors.size(); ++i) {
      Shape s = args.tensors[i].shape();
      if (r.in_dims[i] >= 0) s.erase(s.begin() + r.in_dims[i]);
      sym.push_back(tr->input({args.tensors[i].dtype(), s}));
    }
    std::vector<Tensor> outs;
    ir::Function f;
    try {
      {
        TraceScope scope(tr);
        outs = body(sym);
      }
      for (size_t i = 0; i < outs.size(); ++i)
        if (!outs[i].defined())
          throw Error(ErrorKind::InvalidArgument, fmt::format("output {} is an undefined tensor", i));
      f = tr->finish(outs);
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", context_, e.what()));
    }
    ir::VmapSpec spec;
    spec.context = context_;
    spec.batch_size = batch;
    spec.randomness = opts_.randomness == Randomness::Error     ? ir::RandomMode::Error
                      : opts_.randomness == Randomness::Same   ? ir::RandomMode::Same
                                                               : ir::RandomMode::Different;
    for (size_t i = 0; i < f.params.size(); ++i) {
      int64_t d = i < args.tensors.size() ? r.in_dims[i] : -1;
      spec.in_dims.push_back(d >= 0 ? std::optional<int64_t>(d) : std::nullopt);
    }
    size_t nout = f.outputs.size();
    if (!out_.is_uniform() && out_.each().size() != nout)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: out_dims has {} entries but the function returns {} output{}",
                              context_, out_.each().size(), nout, nout == 1 ? "" : "s"));
    for (size_t i = 0; i < nout; ++i)
      spec.out_dims.push_back(out_.is_uniform() ? out_.uniform() : out_.each()[i].value());
    return {std::move(f), std::move(spec), tr->captures()};
  }

  std::vector<Tensor> call_inline(const CallArgs& args, const Resolved& r, TraceBody body) const {
    Traced t = trace(args, r, body, r.batch);
    ir::Function g = ir::vmap(t.f, t.spec);
    std::vector<Tensor> inputs(args.tensors.begin(), args.tensors.end());
    inputs.insert(inputs.end(), t.captures.begin(), t.captures.end());
    return Trace::current()->inline_function(g, inputs);
  }

  // The entry for a signature, compiled once even when several threads miss together. A failed
  // compile leaves no entry behind, so the next call tries again and fails the same way.
  Entry* lookup(std::vector<int64_t> key, const CallArgs& args, const Resolved& r,
                TraceBody body, std::span<const Tensor> outputs) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        slot = it->second;
        if (slot->ready) {
          hits_.fetch_add(1, std::memory_order_relaxed);
          return slot->entry.get();
        }
      } else {
        slot = std::make_shared<Slot>();
        cache_.emplace(key, slot);
      }
    }
    std::lock_guard<std::mutex> build(slot->mu);
    if (slot->ready) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return slot->entry.get();
    }
    try {
      auto e = std::make_unique<Entry>();
      Traced t = trace(args, r, body, ir::kDyn);
      rt::PipelineOptions po;
      po.interpreter = opts_.backend == Backend::Interpreter;
      for (const Tensor& x : args.tensors) po.contiguous.push_back(x.is_contiguous());
      for (const Tensor& x : t.captures) po.contiguous.push_back(x.is_contiguous());
      size_t nout = t.f.outputs.size();
      for (size_t i = 0; i < nout; ++i)
        po.contiguous.push_back(outputs.empty() || outputs[i].is_contiguous());
      rt::Compiled c = rt::compile(t.f, t.spec, po);
      e->key = std::move(key);
      e->in_dims = r.in_dims;
      e->batched = std::move(c.batched);
      e->exec = std::move(c.exec);
      e->captures = std::move(t.captures);
      for (const ir::Node& n : e->batched.nodes)
        e->uses_rng |= ir::op_info(n.op).cls == ir::OpClass::Random;
      std::lock_guard<std::mutex> lock(mu_);
      slot->entry = std::move(e);
      slot->ready = true;
      ++compiles_;
      return slot->entry.get();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end() && it->second == slot) cache_.erase(it);
      throw;
    }
  }

  // Checks caller-owned output buffers: concrete, of the result's dtype and shape, and not
  // overlapping an input (the kernel would read what it has already written).
  void check_outputs(const Entry& e, const CallArgs& args, int64_t batch,
                     std::span<const Tensor> outputs) const {
    if (outputs.size() != e.batched.outputs.size())
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: {} output buffers given for {} outputs", context_,
                              outputs.size(), e.batched.outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
      const ir::Type& t = e.batched.type(e.batched.outputs[i]);
      Shape want = ir::resolve(t.shape, batch);
      const Tensor& o = outputs[i];
      if (!o.defined() || o.is_symbolic() || o.dtype() != t.dtype || o.shape() != want)
        throw Error(ErrorKind::Shape,
                    fmt::format("{}: output buffer {} is {} but output {} is {}{}", context_, i,
                                describe(o), i, dtype_name(t.dtype), ir::shape_string(want)));
      auto range = [](const Tensor& x) {
        const char* p = static_cast<const char*>(x.data());
        int64_t lo = 0, hi = 0;
        for (int64_t d = 0; d < x.dim(); ++d) {
          int64_t span = (x.shape()[d] - 1) * x.strides()[d];
          (span < 0 ? lo : hi) += span;
        }
        int64_t w = dtype_size(x.dtype());
        return std::pair<const char*, const char*>{p + lo * w, p + (hi + 1) * w};
      };
      if (o.numel() == 0) continue;
      auto [olo, ohi] = range(o);
      auto overlaps = [&](const Tensor& x) {
        if (x.numel() == 0) return false;
        auto [lo, hi] = range(x);
        return lo < ohi && olo < hi;
      };
      for (size_t j = 0; j < args.tensors.size(); ++j)
        if (overlaps(args.tensors[j]))
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: output buffer {} overlaps the memory of argument {}", context_, i, j));
      for (size_t j = 0; j < i; ++j)
        if (overlaps(outputs[j]))
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: output buffers {} and {} overlap", context_, j, i));
    }
  }

  std::vector<Tensor> run(const Entry& e, const CallArgs& args, int64_t batch,
                          std::span<const Tensor> given) const {
    std::vector<Tensor> outputs;
    if (!given.empty()) {
      check_outputs(e, args, batch, given);
      outputs.assign(given.begin(), given.end());
    } else {
      outputs.reserve(e.batched.outputs.size());
      for (ir::ValueId v : e.batched.outputs) {
        const ir::Type& t = e.batched.type(v);
        outputs.push_back(allocate(ir::resolve(t.shape, batch), t.dtype));
      }
    }
    rt::RunOptions ro;
    if (e.uses_rng) ro.ctx = {Generator::current_seed(), Generator::next_call(), 0};
    ro.chunk = opts_.chunk_size;
    ro.threads = opts_.threads;
    try {
      e.exec->run(args.tensors, e.captures, outputs, batch, ro);
    } catch (const Error& err) {
      throw Error(err.kind(), fmt::format("{}: {}", context_, err.what()));
    }
    return outputs;
  }

  struct Slot {
    std::mutex mu;
    bool ready = false;
    std::unique_ptr<Entry> entry;
  };

  DimSpec in_, out_;
  VmapOptions opts_;
  std::string context_;
  mutable std::mutex mu_;
  std::unordered_map<std::vector<int64_t>, std::shared_ptr<Slot>, KeyHash> cache_;
  int64_t compiles_ = 0;
  std::atomic<int64_t> hits_{0};
  std::atomic<Entry*> last_{nullptr};  // entries live as long as the state
};

}  // namespace

std::shared_ptr<TransformState> make_vmap_state(DimSpec in_dims, DimSpec out_dims, VmapOptions o) {
  return std::make_shared<VmapState>(std::move(in_dims), std::move(out_dims), std::move(o));
}

CacheStats cache_stats(const TransformState& s) {
  if (auto* v = dynamic_cast<const VmapState*>(&s)) return v->stats();
  return {};
}

}  // namespace jit::detail
