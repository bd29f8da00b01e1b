// runtime/traced_transform.cpp: tracing, the per-signature cache and execution shared by every
// compiled transform.
//
// The cache-hit fast path: the last signature used is compared in place with the call's
// arguments (no key is built, nothing is hashed or locked), and the kernel runs directly.
#include "runtime/traced_transform.h"

#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "frontend/views.h"
#include "runtime/diagnostics.h"
#include "runtime/engine.h"
#include "runtime/pipeline.h"
#include "trace/trace.h"

namespace jit {
namespace detail {

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
  return {};
}

CacheStats cache_stats(const TransformState& s) {
  if (auto* t = dynamic_cast<const rt::TracedTransform*>(&s)) return t->stats();
  return {};
}

}  // namespace detail

void wait_for_compiles() { rt::Engine::instance().wait_background(); }

namespace rt {

using detail::CallArgs;
using detail::Trace;
using detail::TraceBody;
using detail::TraceScope;

namespace {

struct NeedsStaticBatch {};

std::vector<int64_t> with_batch(std::vector<int64_t> key, int64_t batch) {
  key.push_back(batch);
  return key;
}

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

bool is_empty(const Tensor& x) {
  for (int64_t d : x.shape())
    if (d == 0) return true;
  return false;
}

// The bytes a concrete tensor's elements span, [first, last + 1).
std::pair<const char*, const char*> byte_range(const Tensor& x) {
  const char* p = static_cast<const char*>(x.data());
  int64_t lo = 0, hi = 0;
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t span = (x.shape()[d] - 1) * x.strides()[d];
    (span < 0 ? lo : hi) += span;
  }
  int64_t w = dtype_size(x.dtype());
  return {p + lo * w, p + (hi + 1) * w};
}

}  // namespace

// What one signature compiles to.
struct TracedTransform::Entry {
  std::vector<int64_t> key;      // with the batch size last when static_batch >= 0
  int64_t static_batch = -1;
  std::vector<int64_t> in_dims;  // per tensor argument
  ir::Function compiled;         // the final IR
  std::vector<Tensor> captures;
  // The memory of each non-empty capture (fixed for the entry's life), for the output checks.
  struct Bytes {
    size_t capture;
    const char *first, *end;
  };
  std::vector<Bytes> capture_bytes;
  bool uses_rng = false;
  std::unique_ptr<Executable> exec;
};

struct TracedTransform::Slot {
  std::mutex mu;
  bool ready = false;
  std::unique_ptr<Entry> entry;
};

size_t TracedTransform::KeyHash::operator()(const std::vector<int64_t>& k) const {
  size_t h = k.size();
  for (int64_t x : k) h = h * 0x100000001b3ull ^ static_cast<size_t>(x);
  return h;
}

TracedTransform::TracedTransform(std::string context, VmapOptions options)
    : context_(std::move(context)), opts_(std::move(options)) {
  if (opts_.chunk_size < 0)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: chunk_size must be positive, got {}", context_, opts_.chunk_size));
}

TracedTransform::~TracedTransform() = default;

std::vector<Tensor> TracedTransform::call(const CallArgs& args, TraceBody body) {
  return call_into(args, body, {});
}

std::vector<Tensor> TracedTransform::call_into(const CallArgs& args, TraceBody body,
                                               std::span<const Tensor> outputs) {
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
  bool per_batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    per_batch = per_batch_.count(key) > 0;
  }
  Entry* e;
  try {
    e = lookup(per_batch ? with_batch(key, r.batch) : key, args, r, body, outputs, per_batch);
  } catch (const NeedsStaticBatch&) {  // found out while compiling: again, per batch size
    e = lookup(with_batch(key, r.batch), args, r, body, outputs, true);
  }
  last_.store(e, std::memory_order_release);
  return run(*e, args, r.batch, outputs);
}

CacheStats TracedTransform::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t optimized = 0;
  for (const auto& [key, slot] : cache_)
    if (slot->ready && slot->entry->exec->optimized()) ++optimized;  // both written under mu_
  return {compiles_, hits_.load(), static_cast<int64_t>(cache_.size()), fallbacks_.load(), optimized};
}

Resolved TracedTransform::resolve(const CallArgs& args) const {
  for (size_t i = 0; i < args.tensors.size(); ++i)
    if (!args.tensors[i].defined())
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: tensor argument {} is undefined", context_, i));
  return {std::vector<int64_t>(args.tensors.size(), -1), 0};
}

ir::VmapSpec TracedTransform::unmapped_spec(const ir::Function& f) const {
  ir::VmapSpec spec;
  spec.context = context_;
  spec.in_dims.assign(f.params.size(), std::nullopt);
  spec.out_dims.assign(f.outputs.size(), std::nullopt);
  return spec;
}

// The call fits the entry: same key, and the mapped arguments agree on a batch size.
bool TracedTransform::matches(const Entry& e, const CallArgs& args, std::span<const Tensor> outputs,
                              int64_t* batch) {
  if (args.tensors.size() != e.in_dims.size()) return false;
  int64_t b = -1;
  for (size_t i = 0; i < args.tensors.size(); ++i) {
    const Tensor& x = args.tensors[i];
    if (!x.is_concrete()) return false;
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
  *batch = std::max<int64_t>(b, 0);
  if (e.static_batch >= 0) return same && k + 1 == e.key.size() && e.key[k] == *batch;
  return same && k == e.key.size();
}

// Traces the function on symbolic per-sample tensors.
TracedTransform::Traced TracedTransform::trace(const CallArgs& args, const Resolved& r,
                                               TraceBody body) const {
  auto tr = std::make_shared<Trace>(opts_.name.empty() ? "function" : opts_.name);
  std::vector<Tensor> sym;
  for (size_t i = 0; i < args.tensors.size(); ++i) {
    Shape s = args.tensors[i].shape();
    if (r.in_dims[i] >= 0) s.erase(s.begin() + r.in_dims[i]);
    sym.push_back(tr->input({args.tensors[i].dtype(), s}));
  }
  try {
    std::vector<Tensor> outs;
    {
      TraceScope scope(tr);
      outs = body(sym);
    }
    for (size_t i = 0; i < outs.size(); ++i)
      if (!outs[i].defined())
        throw Error(ErrorKind::InvalidArgument, fmt::format("output {} is an undefined tensor", i));
    return {tr->finish(outs), tr->captures()};
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", context_, e.what()));
  }
}

std::vector<Tensor> TracedTransform::call_inline(const CallArgs& args, const Resolved& r,
                                                 TraceBody body) const {
  Traced t = trace(args, r, body);
  Prepared p = prepare(std::move(t.f), args, r, r.batch);
  ir::Function g = ir::vmap(p.f, p.spec);
  std::vector<Tensor> inputs(args.tensors.begin(), args.tensors.end());
  inputs.insert(inputs.end(), t.captures.begin(), t.captures.end());
  inputs.insert(inputs.end(), p.extra.begin(), p.extra.end());
  return Trace::current()->inline_function(g, inputs);
}

// The entry for a signature, compiled once even when several threads miss together. A failed
// compile leaves no entry behind, so the next call tries again and fails the same way.
TracedTransform::Entry* TracedTransform::lookup(std::vector<int64_t> key, const CallArgs& args,
                                                const Resolved& r, TraceBody body,
                                                std::span<const Tensor> outputs, bool per_batch) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      slot = it->second;
      if (slot->ready) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        if (diagnostics_wanted()) report_cache_hit(context_, signature_of(slot->entry->compiled));
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
    if (diagnostics_wanted()) report_cache_hit(context_, signature_of(slot->entry->compiled));
    return slot->entry.get();
  }
  try {
    auto e = std::make_unique<Entry>();
    Traced t = trace(args, r, body);
    Prepared p = prepare(std::move(t.f), args, r, per_batch ? r.batch : ir::kDyn);
    if (p.needs_static_batch) {
      std::lock_guard<std::mutex> lock(mu_);
      per_batch_[std::vector<int64_t>(key.begin(), key.end())] = true;
      cache_.erase(key);
      throw NeedsStaticBatch{};
    }
    t.captures.insert(t.captures.end(), p.extra.begin(), p.extra.end());
    PipelineOptions po;
    po.interpreter = opts_.backend == Backend::Interpreter;
    po.fuse = opts_.fuse;
    for (const Tensor& x : args.tensors) po.contiguous.push_back(x.is_contiguous());
    for (const Tensor& x : t.captures) po.contiguous.push_back(x.is_contiguous());
    for (size_t i = 0; i < p.f.outputs.size(); ++i)
      po.contiguous.push_back(outputs.empty() || outputs[i].is_contiguous());
    po.keep_text = stage_text_wanted();
    // A dump shows the code that runs in the end, compiled before the first call returns.
    po.tiering = po.keep_text ? Tiering::Optimized : opts_.tiering;
    Compiled c = compile(p.f, p.spec, po);
    if (diagnostics_wanted()) report_compile(context_, signature_of(c.batched), c.stages);
    e->key = std::move(key);
    e->static_batch = per_batch ? r.batch : -1;
    e->in_dims = r.in_dims;
    e->compiled = std::move(c.batched);
    e->exec = std::move(c.exec);
    e->captures = std::move(t.captures);
    for (size_t c = 0; c < e->captures.size(); ++c)
      if (!is_empty(e->captures[c])) {
        auto [first, end] = byte_range(e->captures[c]);
        e->capture_bytes.push_back({c, first, end});
      }
    for (const ir::Node& n : e->compiled.nodes)
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
// overlapping an input, a captured tensor or each other (the kernel would read what it has
// already written).
void TracedTransform::check_outputs(const Entry& e, const CallArgs& args, int64_t batch,
                                    std::span<const Tensor> outputs) const {
  if (outputs.size() != e.compiled.outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: {} output buffers given for {} outputs", context_,
                            outputs.size(), e.compiled.outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    const ir::Type& t = e.compiled.type(e.compiled.outputs[i]);
    const Tensor& o = outputs[i];
    bool fits = o.is_concrete() && o.dtype() == t.dtype && o.dim() == t.rank();
    for (int64_t d = 0; fits && d < t.rank(); ++d)
      fits = o.shape()[d] == (t.shape[d] == ir::kDyn ? batch : t.shape[d]);
    if (!fits)
      throw Error(ErrorKind::Shape,
                  fmt::format("{}: output buffer {} is {} but output {} is {}{}", context_, i,
                              detail::describe(o), i, dtype_name(t.dtype),
                              ir::shape_string(ir::resolve(t.shape, batch))));
    if (is_empty(o)) continue;
    auto [olo, ohi] = byte_range(o);
    auto overlaps = [&](const Tensor& x) {
      if (is_empty(x)) return false;
      auto [lo, hi] = byte_range(x);
      return lo < ohi && olo < hi;
    };
    for (size_t j = 0; j < args.tensors.size(); ++j)
      if (overlaps(args.tensors[j]))
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: output buffer {} overlaps the memory of argument {}", context_, i, j));
    for (const Entry::Bytes& c : e.capture_bytes)
      if (c.first < ohi && olo < c.end)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: output buffer {} overlaps the memory of a tensor the function captures ({})",
                                context_, i, detail::describe(e.captures[c.capture])));
    for (size_t j = 0; j < i; ++j)
      if (overlaps(outputs[j]))
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: output buffers {} and {} overlap", context_, j, i));
  }
}

std::vector<Tensor> TracedTransform::run(const Entry& e, const CallArgs& args, int64_t batch,
                                         std::span<const Tensor> given) const {
  std::vector<Tensor> outputs;
  if (!given.empty()) {
    check_outputs(e, args, batch, given);
  } else {
    outputs.reserve(e.compiled.outputs.size());
    for (ir::ValueId v : e.compiled.outputs) {
      const ir::Type& t = e.compiled.type(v);
      outputs.push_back(detail::allocate(ir::resolve(t.shape, batch), t.dtype));
    }
  }
  RunOptions ro;
  if (e.uses_rng) ro.ctx = {detail::Generator::current_seed(), detail::Generator::next_call(), 0};
  ro.chunk = opts_.chunk_size;
  ro.threads = opts_.threads;
  try {
    e.exec->run(args.tensors, e.captures, given.empty() ? std::span<const Tensor>(outputs) : given, batch, ro);
  } catch (const Error& err) {
    throw Error(err.kind(), fmt::format("{}: {}", context_, err.what()));
  }
  return outputs;  // empty when the caller gave the buffers
}

}  // namespace rt
}  // namespace jit
