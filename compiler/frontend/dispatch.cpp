// frontend/dispatch.cpp: tracing or eager execution of one op.
#include "frontend/dispatch.h"

#include <fmt/format.h>

#include "interp/interpreter.h"
#include "trace/trace.h"

namespace jit::detail {
namespace {
std::atomic<uint64_t> g_seed{0x5eed};
std::atomic<uint64_t> g_call{0};

void check_concrete(const Tensor& t, const ir::OpInfo& op) {
  if (!t.defined())
    throw Error(ErrorKind::InvalidArgument, fmt::format("op '{}': an operand is undefined", op.name));
  if (t.is_symbolic())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("op '{}': a symbolic tensor of function '{}' was used after its trace "
                            "ended (it escaped the traced function)",
                            op.name, t.impl().trace->name()));
}
}  // namespace

void Generator::seed(uint64_t s) {
  g_seed = s;
  g_call = 0;
}
uint64_t Generator::current_seed() { return g_seed; }
uint64_t Generator::next_call() { return g_call++; }

Tensor apply(ir::OpId op, std::span<const Tensor> operands, ir::Attrs attrs) {
  if (Trace* tr = Trace::current()) {
    std::vector<ir::ValueId> ids;
    ids.reserve(operands.size());
    for (const Tensor& t : operands) ids.push_back(tr->value_of(t));
    return tr->symbolic(tr->builder().op(op, std::move(ids), std::move(attrs)));
  }
  const ir::OpInfo& info = ir::op_info(op);
  std::vector<ir::Type> types;
  for (const Tensor& t : operands) {
    check_concrete(t, info);
    types.push_back({t.dtype(), t.shape()});
  }
  ir::Node n;
  n.op = op;
  n.type = ir::infer_type(op, types, attrs);
  n.attrs = std::move(attrs);
  ir::KernelCtx ctx;
  if (info.cls == ir::OpClass::Random) ctx = {Generator::current_seed(), Generator::next_call(), 0};
  return ir::run_kernel(n, operands, n.type.shape, ctx);
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  return fmt::format("{}{}", dtype_name(t.dtype()), ir::shape_string(t.shape()));
}

std::string list_string(const std::vector<int64_t>& v) {
  return fmt::format("[{}]", fmt::join(v, ","));
}

int64_t normalize_dim(const char* op, int64_t dim, const Tensor& t, bool allow_end) {
  int64_t rank = t.dim() + (allow_end ? 1 : 0), r = std::max<int64_t>(rank, 1);
  if (dim < -r || dim >= r)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: dim {} is out of range for {} of rank {} (expected a dim in [{}, {}])",
                            op, dim, describe(t), t.dim(), -r, r - 1));
  return dim < 0 ? dim + r : dim;
}

Tensor constant(Scalar v, DType t) {
  ir::Attrs a{{"dtype", t}};
  if (is_float(t))
    a.set("value", v.to_double());
  else
    a.set("value", t == DType::b8 ? int64_t(v.to_double() != 0) : v.to_int());
  return apply(ir::OpId::Constant, std::span<const Tensor>{}, std::move(a));
}

Tensor random(ir::OpId op, const Shape& shape, DType t) {
  int64_t stream = 0;
  if (Trace* tr = Trace::current()) stream = tr->next_stream();
  return apply(op, std::span<const Tensor>{}, {{"dtype", t}, {"shape", shape}, {"stream", stream}});
}

}  // namespace jit::detail
