// runtime/traced_transform.cpp: tracing, the per-signature cache and execution shared by every
// compiled transform.
//
// The cache-hit fast path: the last signature used is compared in place with the call's
// arguments (no key is built, nothing is hashed or locked), and the kernel runs directly.
#include "runtime/traced_transform.h"

#include <fmt/format.h>

#include <algorithm>

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
                                              std::span<const OutputRef> outputs) {
  std::vector<Tensor> r = call(args, body);
  if (r.size() != outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{} output buffers given for {} outputs", outputs.size(), r.size()));
  for (size_t i = 0; i < r.size(); ++i) {
    const Tensor& o = *outputs[i];
    if (o.shape() != r[i].shape() || o.dtype() != r[i].dtype())
      throw Error(ErrorKind::Shape, fmt::format("output buffer {} is {} but output {} is {}", i,
                                                describe(o), i, describe(r[i])));
    copy_into(o, r[i]);
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
               std::span<const detail::OutputRef> outputs) {
  for (uint8_t t : args.is_tensor) put(t);
  for (size_t i = 0; i < args.tensors.size(); ++i) {
    const Tensor& x = *args.tensors[i];
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
  for (const detail::OutputRef& o : outputs) put(o->is_contiguous());
}

// A concrete tensor's memory, in one pass over its dims: its first element, whether it is
// contiguous, and the bytes its elements span, [first, end) (first == end: no elements).
struct Extent {
  char* data;
  const char *first, *end;
  bool contiguous;
};

// extent() of a tensor whose rank is `want`'s, in the same pass comparing each dim but `skip`
// (the batch dim: any size) with `want`'s and copying the strides to `strides`; false when a
// dim differs. The cache-hit path runs it once per buffer: one loop over the dims.
[[gnu::always_inline]] inline bool scan(const detail::TensorImpl& t, Extent& out, const int64_t* want,
                                        int64_t skip, int64_t* strides) {
  int64_t w = dtype_size(t.dtype);
  char* p = static_cast<char*>(t.base()) + t.offset * w;
  int64_t n = 1, lo = 0, hi = 0;
  bool contiguous = true;
  const int64_t *shape = t.shape.data(), *stride = t.strides.data();
  for (int64_t d = static_cast<int64_t>(t.shape.size()); d-- > 0;) {
    int64_t size = shape[d], st = stride[d];
    if (want && d != skip && size != want[d]) return false;
    if (strides) strides[d] = st;
    contiguous &= size == 1 || st == n;
    n *= size;
    (st < 0 ? lo : hi) += (size - 1) * st;
  }
  out = n == 0 ? Extent{p, p, p, contiguous} : Extent{p, p + lo * w, p + (hi + 1) * w, contiguous};
  return true;
}

Extent extent(const detail::TensorImpl& t) {
  Extent m;
  scan(t, m, nullptr, -1, nullptr);
  return m;
}

template <class T>
bool same(std::span<const T> a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// Bytes [first, end); trivially constructed (arrays of them are left uninitialized).
struct Bytes {
  const char *first, *end;
};

// Tensors of their own from borrowed ones (the call's arguments, the output buffers given).
template <class Ref>
std::vector<Tensor> owned(std::span<const Ref> refs) {
  std::vector<Tensor> v;
  for (const Ref& r : refs) v.push_back(*r);
  return v;
}

bool overlap(Bytes a, Bytes b) {
  return a.first != a.end && b.first != b.end && a.first < b.end && b.first < a.end;
}

}  // namespace

// What one signature compiles to.
struct TracedTransform::Entry {
  std::vector<int64_t> key;      // with the batch size last when static_batch >= 0
  int64_t static_batch = -1;
  std::vector<int64_t> in_dims;  // per tensor argument
  // The signature unpacked for the cache-hit path (what write_key wrote): the arguments' kinds
  // and non-tensor values, each tensor argument's dtype, contiguity and dims (the one at its
  // in_dim is the batch), and the output buffers the call gave (none: the results are
  // allocated; otherwise one per output, as the lookup refuses any other count).
  std::vector<uint8_t> is_tensor;
  std::vector<int64_t> statics;
  struct Arg {
    DType dtype;
    bool contiguous;
    Shape shape;
  };
  std::vector<Arg> args;
  size_t given_outputs = 0;
  std::vector<uint8_t> outputs_contiguous;
  size_t nstrides = 0;           // every buffer's dims: the kernel's strides
  ir::Function compiled;         // the final IR
  std::vector<Tensor> captures;
  // The memory of each capture (fixed for the entry's life), for the output checks.
  std::vector<Bytes> capture_bytes;
  bool uses_rng = false;
  std::unique_ptr<Executable> exec;
  const PointerExecutable* pointers = nullptr;  // exec, when it runs from raw buffers
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

std::vector<Tensor> TracedTransform::call(const CallArgs& args, TraceBody body) { return dispatch(args, body, {}); }

std::vector<Tensor> TracedTransform::call_into(const CallArgs& args, TraceBody body,
                                               std::span<const detail::OutputRef> outputs) {
  if (!outputs.empty()) return dispatch(args, body, outputs);
  // No buffers fit only a function without outputs (dispatch reads none as "allocate them").
  std::vector<Tensor> r = dispatch(args, body, {});
  if (!r.empty())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: 0 output buffers given for {} outputs", context_, r.size()));
  return r;
}

// The call, the results written into `outputs`, or allocated and returned when there are none.
std::vector<Tensor> TracedTransform::dispatch(const CallArgs& args, TraceBody body,
                                              std::span<const detail::OutputRef> outputs) {
  std::vector<Tensor> results;
  if (!Trace::current()) {
    Entry* e = last_.load(std::memory_order_acquire);
    if (e && run(*e, args, outputs, results, false)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return results;
    }
  }
  Resolved r = resolve(args);
  if (Trace::current()) {
    if (!outputs.empty())
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: output buffers cannot be given while tracing", context_));
    return call_inline(args, r, body);
  }
  for (size_t i = 0; i < args.tensors.size(); ++i)
    if (args.tensors[i]->is_symbolic())
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: tensor argument {} is a traced value outside its trace (a symbolic tensor "
                              "kept from inside a traced function); pass concrete tensors", context_, i));
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
  run(*e, args, outputs, results, true);
  return results;
}

CacheStats TracedTransform::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t optimized = 0, constant = 0;
  for (const auto& [key, slot] : cache_) {
    if (!slot->ready) continue;  // ready and entry are written under mu_
    optimized += slot->entry->exec->optimized();
    constant += slot->entry->exec->constant_hoisted();
  }
  return {compiles_, hits_.load(), static_cast<int64_t>(cache_.size()), fallbacks_.load(), optimized, constant};
}

Resolved TracedTransform::resolve(const CallArgs& args) const {
  for (size_t i = 0; i < args.tensors.size(); ++i)
    if (!args.tensors[i]->defined())
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

// Traces the function on symbolic per-sample tensors.
TracedTransform::Traced TracedTransform::trace(const CallArgs& args, const Resolved& r,
                                               TraceBody body) const {
  auto tr = std::make_shared<Trace>(opts_.name.empty() ? "function" : opts_.name);
  std::vector<Tensor> sym;
  for (size_t i = 0; i < args.tensors.size(); ++i) {
    Shape s = args.tensors[i]->shape();
    if (r.in_dims[i] >= 0) s.erase(s.begin() + r.in_dims[i]);
    sym.push_back(tr->input({args.tensors[i]->dtype(), s}));
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
  std::vector<Tensor> inputs = owned(args.tensors);
  inputs.insert(inputs.end(), t.captures.begin(), t.captures.end());
  inputs.insert(inputs.end(), p.extra.begin(), p.extra.end());
  return Trace::current()->inline_function(g, inputs);
}

// The entry for a signature, compiled once even when several threads miss together. A failed
// compile leaves no entry behind, so the next call tries again and fails the same way.
TracedTransform::Entry* TracedTransform::lookup(std::vector<int64_t> key, const CallArgs& args,
                                                const Resolved& r, TraceBody body,
                                                std::span<const detail::OutputRef> outputs, bool per_batch) {
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
    if (!outputs.empty() && outputs.size() != p.f.outputs.size())
      throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {} output buffers given for {} outputs", context_,
                                                          outputs.size(), p.f.outputs.size()));
    t.captures.insert(t.captures.end(), p.extra.begin(), p.extra.end());
    PipelineOptions po;
    po.interpreter = opts_.backend == Backend::Interpreter;
    po.fuse = opts_.fuse;
    po.constant_captures = opts_.constant_captures;
    po.fp_contract = opts_.fp_contract;
    for (const Tensor* x : args.tensors) po.contiguous.push_back(x->is_contiguous());
    for (const Tensor& x : t.captures) po.contiguous.push_back(x.is_contiguous());
    for (size_t i = 0; i < p.f.outputs.size(); ++i)
      po.contiguous.push_back(outputs.empty() || outputs[i]->is_contiguous());
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
    e->is_tensor.assign(args.is_tensor.begin(), args.is_tensor.end());
    e->statics.assign(args.statics.begin(), args.statics.end());
    for (const Tensor* x : args.tensors) {
      e->args.push_back({x->dtype(), x->is_contiguous(), x->shape()});
      e->nstrides += x->strides().size();
    }
    e->given_outputs = outputs.size();
    for (const detail::OutputRef& o : outputs) e->outputs_contiguous.push_back(o->is_contiguous());
    for (const Tensor& x : e->captures) {
      Extent m = extent(x.impl());
      e->capture_bytes.push_back({m.first, m.end});
      e->nstrides += x.strides().size();
    }
    for (ir::ValueId v : e->compiled.outputs) e->nstrides += e->compiled.type(v).rank();
    e->pointers = dynamic_cast<const PointerExecutable*>(e->exec.get());
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

// Runs the call on the entry in one pass over its tensors: checks that it fits (the key
// write_key would write, the mapped arguments' batch size, and caller-owned output buffers:
// concrete, of the result's dtype and shape, not overlapping an argument, a captured tensor or
// each other, as the kernel would read what it has already written), gathering the kernel's
// buffers as it goes. When the call does not fit: false, or with `report` the error that says
// why (the slow path, after the lookup has matched the key).
bool TracedTransform::run(const Entry& e, const CallArgs& args, std::span<const detail::OutputRef> given,
                          std::vector<Tensor>& results, bool report) const {
  auto mismatch = [&] {
    if (report) throw Error(ErrorKind::Compile, fmt::format("{}: the cached function does not fit the call", context_));
    return false;
  };
  size_t nt = e.args.size(), nout = e.compiled.outputs.size();
  if (args.tensors.size() != nt || given.size() != e.given_outputs || !same(args.is_tensor, e.is_tensor) ||
      !same(args.statics, e.statics))
    return mismatch();
  KernelBuffers b(nt + e.captures.size() + nout, e.nstrides);
  // The memory of the arguments and the outputs, for the overlap checks of given outputs.
  constexpr size_t kSmall = 16;
  Bytes small[kSmall];
  std::vector<Bytes> big;
  auto* bytes = small;
  if (!given.empty() && nt + nout > kSmall) big.resize(nt + nout), bytes = big.data();
  int64_t batch = -1;
  for (size_t i = 0; i < nt; ++i) {
    const detail::TensorImpl* t = args.tensors[i]->impl_ptr().get();
    const Entry::Arg& a = e.args[i];
    size_t rank = a.shape.size();
    if (!t || t->trace || t->dtype != a.dtype || t->shape.size() != rank) return mismatch();
    int64_t d = e.in_dims[i];
    if (d >= 0) {
      if (batch >= 0 && t->shape[d] != batch) return mismatch();
      batch = t->shape[d];
    }
    Extent m;
    if (!scan(*t, m, a.shape.data(), d, b.strides_of_next()) || m.contiguous != a.contiguous)
      return mismatch();
    b.add(m.data, rank);
    if (!given.empty()) bytes[i] = {m.first, m.end};
  }
  batch = std::max<int64_t>(batch, 0);
  if (e.static_batch >= 0 && batch != e.static_batch) return mismatch();
  for (const Tensor& c : e.captures) b.add(c.impl());
  for (size_t i = 0; i < given.size(); ++i) {
    const ir::Type& type = e.compiled.type(e.compiled.outputs[i]);
    const Tensor& out = *given[i];
    const detail::TensorImpl* t = out.impl_ptr().get();
    bool fits = t && !t->trace && t->dtype == type.dtype && static_cast<int64_t>(t->shape.size()) == type.rank();
    for (int64_t d = 0; fits && d < type.rank(); ++d)
      fits = t->shape[d] == (type.shape[d] == ir::kDyn ? batch : type.shape[d]);
    if (!fits) {
      if (!report) return false;
      if (out.is_symbolic())
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: output buffer {} is a traced value, not a concrete tensor", context_, i));
      throw Error(ErrorKind::Shape,
                  fmt::format("{}: output buffer {} is {} but output {} is {}{}", context_, i,
                              detail::describe(out), i, dtype_name(type.dtype),
                              ir::shape_string(ir::resolve(type.shape, batch))));
    }
    size_t rank = t->shape.size();
    Extent m;
    scan(*t, m, nullptr, -1, b.strides_of_next());
    if (m.contiguous != e.outputs_contiguous[i]) return mismatch();
    Bytes mine{m.first, m.end};
    // Refused overlaps: the message is made only when it is reported.
    auto refuse = [&](auto&& message) {
      if (report) throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {}", context_, message()));
      return false;
    };
    for (size_t j = 0; j < nt; ++j)
      if (overlap(mine, bytes[j]))
        return refuse([&] { return fmt::format("output buffer {} overlaps the memory of argument {}", i, j); });
    for (size_t c = 0; c < e.captures.size(); ++c)
      if (overlap(mine, e.capture_bytes[c]))
        return refuse([&] {
          return fmt::format("output buffer {} overlaps the memory of a tensor the function captures ({})", i,
                             detail::describe(e.captures[c]));
        });
    for (size_t j = 0; j < i; ++j)
      if (overlap(mine, bytes[nt + j]))
        return refuse([&] { return fmt::format("output buffers {} and {} overlap", j, i); });
    bytes[nt + i] = mine;
    b.add(m.data, rank);
  }
  if (given.empty()) {
    results.reserve(nout);
    for (ir::ValueId v : e.compiled.outputs) {
      const ir::Type& t = e.compiled.type(v);
      results.push_back(detail::allocate(ir::resolve(t.shape, batch), t.dtype));
      b.add(results.back().impl());
    }
  }
  RunOptions ro;
  if (e.uses_rng) ro.ctx = {detail::Generator::current_seed(), detail::Generator::next_call(), 0};
  ro.chunk = opts_.chunk_size;
  ro.threads = opts_.threads;
  try {
    if (e.pointers)
      e.pointers->run_pointers(b, batch, ro);
    else if (given.empty())
      e.exec->run(owned(args.tensors), e.captures, results, batch, ro);
    else
      e.exec->run(owned(args.tensors), e.captures, owned(given), batch, ro);
  } catch (const Error& err) {
    throw Error(err.kind(), fmt::format("{}: {}", context_, err.what()));
  }
  return true;
}

}  // namespace rt
}  // namespace jit
