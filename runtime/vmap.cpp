// runtime/vmap.cpp: jit::vmap's runtime. A call checks its arguments, finds the compiled
// function for its signature (tracing, batching and compiling it on a miss), allocates the
// outputs and runs the batch in chunks. Called while another function is being traced, it
// traces inline instead.
#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "frontend/dispatch.h"
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

namespace {

struct KeyHash {
  size_t operator()(const std::vector<int64_t>& k) const {
    size_t h = k.size();
    for (int64_t x : k) h = h * 0x100000001b3ull ^ static_cast<size_t>(x);
    return h;
  }
};

// What one signature compiles to.
struct Entry {
  ir::Function batched;
  std::vector<Tensor> captures;
  bool uses_rng = false;
  std::unique_ptr<rt::Executable> exec;
};

// A call's arguments, checked: the normalised in_dim of each tensor argument and the batch size.
struct Resolved {
  std::vector<std::optional<int64_t>> in_dims;  // per tensor argument, in the argument's dims
  int64_t batch = 0;
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
    Resolved r = resolve(args);
    if (Trace::current()) return call_inline(args, r, body);
    std::vector<int64_t> key = signature(args, r);
    std::shared_ptr<Entry> e = lookup(key, args, r, body);
    return run(*e, args, r);
  }

  CacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {compiles_, hits_, static_cast<int64_t>(cache_.size())};
  }

 private:
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
      r.in_dims.push_back(d);
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

  std::vector<int64_t> signature(const CallArgs& args, const Resolved& r) const {
    std::vector<int64_t> key;
    key.reserve(8 * args.tensors.size() + args.statics.size() + args.is_tensor.size());
    for (uint8_t t : args.is_tensor) key.push_back(t);
    for (size_t i = 0; i < args.tensors.size(); ++i) {
      const Tensor& x = args.tensors[i];
      key.push_back(static_cast<int64_t>(x.dtype()));
      key.push_back(r.in_dims[i].value_or(-1));
      key.push_back(x.dim());
      key.push_back(x.is_contiguous());
      for (int64_t d = 0; d < x.dim(); ++d)
        if (d != r.in_dims[i].value_or(-1)) key.push_back(x.shape()[d]);
    }
    key.insert(key.end(), args.statics.begin(), args.statics.end());
    return key;
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
      if (r.in_dims[i]) s.erase(s.begin() + *r.in_dims[i]);
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
    for (size_t i = 0; i < f.params.size(); ++i)
      spec.in_dims.push_back(i < args.tensors.size() ? r.in_dims[i] : std::nullopt);
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
  std::shared_ptr<Entry> lookup(const std::vector<int64_t>& key, const CallArgs& args,
                                const Resolved& r, TraceBody body) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        slot = it->second;
        if (slot->ready) {
          ++hits_;
          return slot->entry;
        }
      } else {
        slot = std::make_shared<Slot>();
        cache_.emplace(key, slot);
      }
    }
    std::lock_guard<std::mutex> build(slot->mu);
    if (slot->ready) {
      std::lock_guard<std::mutex> lock(mu_);
      ++hits_;
      return slot->entry;
    }
    try {
      auto e = std::make_shared<Entry>();
      Traced t = trace(args, r, body, ir::kDyn);
      rt::PipelineOptions po;
      po.interpreter = opts_.backend == Backend::Interpreter;
      for (const Tensor& x : args.tensors) po.contiguous.push_back(x.is_contiguous());
      for (const Tensor& x : t.captures) po.contiguous.push_back(x.is_contiguous());
      rt::Compiled c = rt::compile(t.f, t.spec, po);
      e->batched = std::move(c.batched);
      e->exec = std::move(c.exec);
      e->captures = std::move(t.captures);
      for (const ir::Node& n : e->batched.nodes)
        e->uses_rng |= ir::op_info(n.op).cls == ir::OpClass::Random;
      std::lock_guard<std::mutex> lock(mu_);
      slot->entry = e;
      slot->ready = true;
      ++compiles_;
      return e;
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end() && it->second == slot) cache_.erase(it);
      throw;
    }
  }

  std::vector<Tensor> run(const Entry& e, const CallArgs& args, const Resolved& r) const {
    std::vector<Tensor> inputs(args.tensors.begin(), args.tensors.end());
    inputs.insert(inputs.end(), e.captures.begin(), e.captures.end());
    std::vector<Tensor> outputs;
    for (ir::ValueId v : e.batched.outputs) {
      const ir::Type& t = e.batched.type(v);
      outputs.push_back(allocate(ir::resolve(t.shape, r.batch), t.dtype));
    }
    rt::RunOptions ro;
    if (e.uses_rng) ro.ctx = {Generator::current_seed(), Generator::next_call(), 0};
    ro.chunk = opts_.chunk_size;
    ro.threads = opts_.threads;
    e.exec->run(inputs, outputs, r.batch, ro);
    return outputs;
  }

  struct Slot {
    std::mutex mu;
    bool ready = false;
    std::shared_ptr<Entry> entry;
  };

  DimSpec in_, out_;
  VmapOptions opts_;
  std::string context_;
  mutable std::mutex mu_;
  std::unordered_map<std::vector<int64_t>, std::shared_ptr<Slot>, KeyHash> cache_;
  int64_t compiles_ = 0, hits_ = 0;
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
