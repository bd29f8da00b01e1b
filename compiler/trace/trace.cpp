// trace/trace.cpp: traces, their scopes and lifting.
#include "trace/trace.h"

#include <fmt/format.h>

namespace jit::detail {
namespace {
// The innermost open trace, checked on every op and every transformed call: a plain pointer
// (no constructor or destructor, so no guard) at initial-exec, read without a __tls_get_addr
// call. The scopes nest, each keeping the one it hides.
__attribute__((tls_model("initial-exec"))) thread_local Trace* t_current = nullptr;
}

Trace::Trace(std::string name) : name_(name), builder_(std::move(name)) {}

Trace* Trace::current() { return t_current; }

Tensor Trace::input(const ir::Type& t, bool captured) { return symbolic(builder_.param(t, captured)); }

Tensor Trace::symbolic(ir::ValueId v) {
  auto impl = std::make_shared<TensorImpl>();
  const ir::Type& t = builder_.type(v);
  impl->dtype = t.dtype;
  impl->shape = t.shape;
  impl->strides.assign(t.shape.size(), 0);
  int64_t acc = 1;
  for (size_t i = t.shape.size(); i-- > 0;) impl->strides[i] = acc, acc *= std::max<int64_t>(t.shape[i], 1);
  impl->trace = shared_from_this();
  impl->value = v;
  return Tensor(std::move(impl));
}

ir::ValueId Trace::value_of(const Tensor& t) {
  if (!t.defined()) throw Error(ErrorKind::InvalidArgument, "an undefined tensor was passed to an op");
  const TensorImpl& impl = t.impl();
  if (impl.trace.get() == this) return impl.value;
  if (impl.trace && !impl.trace->active())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("a symbolic tensor {}{} of function '{}' was used after its trace "
                            "ended (it escaped the traced function)",
                            dtype_name(impl.dtype), ir::shape_string(impl.shape), impl.trace->name()));
  auto it = captured_.find(&impl);
  if (it != captured_.end()) return it->second;
  ir::ValueId v = builder_.param({impl.dtype, impl.shape}, /*captured=*/true);
  captured_.emplace(&impl, v);
  captures_.push_back(t);
  return v;
}

ir::Function Trace::finish(const std::vector<Tensor>& outputs) {
  std::vector<ir::ValueId> ids;
  for (const Tensor& t : outputs) ids.push_back(value_of(t));
  return builder_.finish(ids);
}

std::vector<Tensor> Trace::inline_function(const ir::Function& g, std::span<const Tensor> inputs) {
  std::vector<ir::ValueId> map;
  map.reserve(g.num_values());
  for (const Tensor& t : inputs) map.push_back(value_of(t));
  for (const ir::Node& n : g.nodes) {
    std::vector<ir::ValueId> ops;
    for (ir::ValueId v : n.operands) ops.push_back(map[v]);
    ir::Attrs a = n.attrs;
    if (ir::op_info(n.op).cls == ir::OpClass::Random) a.set("stream", next_stream());
    map.push_back(builder_.op(n.op, std::move(ops), std::move(a)));
  }
  std::vector<Tensor> outs;
  for (ir::ValueId v : g.outputs) outs.push_back(symbolic(map[v]));
  return outs;
}

TraceScope::TraceScope(std::shared_ptr<Trace> t) : trace_(std::move(t)), hidden_(t_current) {
  trace_->active_ = true;
  t_current = trace_.get();
}

TraceScope::~TraceScope() {
  t_current = hidden_;
  trace_->active_ = false;
}

void throw_data_dependent(const Tensor& t, const char* what) {
  const TensorImpl& impl = t.impl();
  throw Error(ErrorKind::DataDependent,
              fmt::format("{} of a traced tensor {}{} while tracing '{}': its value is not known "
                          "until the function runs, so control flow cannot depend on it; use "
                          "jit::where to select between values instead",
                          what, dtype_name(impl.dtype), ir::shape_string(impl.shape),
                          impl.trace->name()));
}

}  // namespace jit::detail
