// transforms/autodiff.cpp: the autodiff passes, by replaying a function into a trace.
#include "transforms/autodiff.h"

#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "jit/ops.h"
#include "trace/trace.h"

namespace jit::ir {
namespace {

// Replays f's nodes into the current trace, from symbolic parameters.
std::vector<Tensor> replay(const Function& f, std::vector<Tensor> values) {
  values.reserve(f.num_values());
  for (const Node& n : f.nodes) {
    std::vector<Tensor> ops;
    for (ValueId v : n.operands) ops.push_back(values[v]);
    values.push_back(detail::apply(n.op, ops, n.attrs));
  }
  return values;
}

Tensor zeros_of(const Type& t) {
  return jit::expand(detail::constant(0.0, t.dtype), t.shape);
}

void check_rule(const OpInfo& info, bool present, std::string_view context, const char* kind) {
  if (!present)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: op '{}' has no {} rule", context, info.name, kind));
}

struct Replay {
  std::shared_ptr<detail::Trace> trace;
  std::vector<Tensor> params;
};

Replay start(const Function& f, std::string_view suffix) {
  Replay r{std::make_shared<detail::Trace>(f.name + std::string(suffix)), {}};
  for (const Param& p : f.params) r.params.push_back(r.trace->input(p.type, p.captured));
  return r;
}

}  // namespace

Function vjp(const Function& f, const VjpSpec& spec, std::string_view context) {
  if (spec.cotangents.size() != f.outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: {} cotangents for {} outputs", context, spec.cotangents.size(),
                            f.outputs.size()));
  Replay r = start(f, "_vjp");
  detail::TraceScope scope(r.trace);
  std::vector<Tensor> values = replay(f, r.params);
  std::vector<Tensor> adj(f.num_values());
  auto accumulate = [&](ValueId v, Tensor g) {
    adj[v] = adj[v].defined() ? jit::add(adj[v], g) : std::move(g);
  };
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    const Type& t = f.type(f.outputs[i]);
    if (!is_float(t.dtype)) continue;
    if (spec.cotangents[i] >= 0) {
      accumulate(f.outputs[i], r.params[spec.cotangents[i]]);
    } else {
      if (t.rank() != 0)
        throw Error(ErrorKind::Shape,
                    fmt::format("{}: the function must return a scalar to be differentiated, "
                                "but output {} is {}; use jit::vjp or jit::jacrev for "
                                "non-scalar outputs", context, i, to_string(t)));
      accumulate(f.outputs[i], detail::constant(1.0, t.dtype));
    }
  }
  for (size_t i = f.nodes.size(); i-- > 0;) {
    const Node& n = f.nodes[i];
    ValueId v = f.value_of_node(i);
    if (!adj[v].defined()) continue;
    const OpInfo& info = op_info(n.op);
    if (!info.differentiable) continue;
    check_rule(info, info.vjp != nullptr, context, "VJP");
    std::vector<Tensor> x, gx(n.operands.size());
    for (ValueId o : n.operands) x.push_back(values[o]);
    info.vjp(n, x, values[v], adj[v], gx);
    for (size_t k = 0; k < n.operands.size(); ++k)
      if (gx[k].defined() && is_float(f.type(n.operands[k]).dtype)) accumulate(n.operands[k], gx[k]);
  }
  std::vector<Tensor> outs;
  if (spec.keep_outputs)
    for (ValueId v : f.outputs) outs.push_back(values[v]);
  for (int p : spec.wrt) {
    const Type& t = f.params[p].type;
    if (!is_float(t.dtype))
      throw Error(ErrorKind::DType,
                  fmt::format("{}: cannot differentiate with respect to argument {} of dtype {}; "
                              "only floating-point arguments have gradients", context, p,
                              dtype_name(t.dtype)));
    outs.push_back(adj[p].defined() ? adj[p] : zeros_of(t));
  }
  return r.trace->finish(outs);
}

Function jvp(const Function& f, const JvpSpec& spec, std::string_view context) {
  Replay r = start(f, "_jvp");
  detail::TraceScope scope(r.trace);
  std::vector<Tensor> values = r.params;
  values.reserve(f.num_values());
  std::vector<Tensor> tan(f.num_values());
  for (size_t i = 0; i < spec.wrt.size(); ++i) {
    const Type& t = f.params[spec.wrt[i]].type;
    if (!is_float(t.dtype))
      throw Error(ErrorKind::DType,
                  fmt::format("{}: argument {} of dtype {} cannot carry a tangent", context,
                              spec.wrt[i], dtype_name(t.dtype)));
    tan[spec.wrt[i]] = r.params[spec.tangents[i]];
  }
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    ValueId v = f.value_of_node(i);
    std::vector<Tensor> x, tx;
    bool any = false;
    for (ValueId o : n.operands) {
      x.push_back(values[o]);
      tx.push_back(tan[o]);
      any |= tan[o].defined();
    }
    values.push_back(detail::apply(n.op, x, n.attrs));
    const OpInfo& info = op_info(n.op);
    if (!any || !info.differentiable || !is_float(n.type.dtype)) continue;
    check_rule(info, info.jvp != nullptr, context, "JVP");
    tan[v] = info.jvp(n, x, values.back(), tx);
  }
  std::vector<Tensor> outs;
  for (ValueId v : f.outputs) outs.push_back(values[v]);
  for (ValueId v : f.outputs) outs.push_back(tan[v].defined() ? tan[v] : zeros_of(f.type(v)));
  return r.trace->finish(outs);
}

}  // namespace jit::ir
