// ops/source.cpp: ops without operands: scalar constants and the random ops rand / randn.
#include "ops/family.h"
#include "ops/philox.h"
#include "transforms/batching.h"

namespace jit::ir {
namespace {

Type infer_constant(const OpInfo& op, std::span<const Type>, const Attrs& attrs) {
  DType t = attrs.get_dtype("dtype");
  bool float_value = std::holds_alternative<double>(*attrs.find("value"));
  if (float_value != is_float(t))
    op_fail(op, ErrorKind::DType,
            fmt::format("a {} constant needs {} value", dtype_name(t),
                        is_float(t) ? "a floating-point" : "an integer"));
  return {t, {}};
}

void kernel_constant(const Node& n, std::span<const Tensor>, Tensor& out, const KernelCtx&) {
  if (is_float(out.dtype()))
    store_double(out, 0, n.attrs.get_float("value"));
  else
    store_int(out, 0, n.attrs.get_int("value"));
}

Type infer_random(const OpInfo& op, std::span<const Type>, const Attrs& attrs) {
  DType t = attrs.get_dtype("dtype");
  if (!is_float(t))
    op_fail(op, ErrorKind::DType, fmt::format("needs a floating dtype, got {}", dtype_name(t)));
  const Shape& s = attrs.get_ints("shape");
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] < 0 && !(s[i] == kDyn && i == 0))
      op_fail(op, ErrorKind::Shape, fmt::format("bad shape {}", shape_string(s)));
  if (attrs.get_int("stream") < 0 || attrs.get_int("stream") > 0xffffffffll)
    op_fail(op, ErrorKind::InvalidArgument, "stream must fit in 32 bits");
  return {t, s};
}

// When the shape starts with the batch dim, element j of this batch range is element
// batch_begin * (per-sample size) + j of the whole batch, so chunks draw what one call would.
void kernel_random(const Node& n, std::span<const Tensor>, Tensor& out, const KernelCtx& ctx) {
  int64_t numel = out.numel(), base = 0;
  if (!n.attrs.get_ints("shape").empty() && n.attrs.get_ints("shape")[0] == kDyn && numel)
    base = ctx.batch_begin * (numel / out.shape()[0]);
  auto stream = static_cast<uint32_t>(n.attrs.get_int("stream"));
  bool f32 = out.dtype() == DType::f32;
  for (int64_t j = 0; j < numel; ++j) {
    philox::Block b = philox::bits(ctx.seed, ctx.call, stream, uint64_t(base + j));
    double v;
    if (n.op == OpId::Rand)
      v = f32 ? philox::uniform_f32(b[0]) : philox::uniform_f64(b[0], b[1]);
    else
      v = f32 ? philox::normal_f32(b) : philox::normal_f64(b);
    store_double(out, j, v);
  }
}

// Under Randomness::Different each sample draws its own values: the batch dim leads the shape.
BValue batch_random(BatchCtx& ctx, const Node& n, std::span<const BValue>) {
  Attrs a = n.attrs;
  Shape s = a.get_ints("shape");
  s.insert(s.begin(), ctx.batch);
  a.set("shape", s);
  return {ctx.b.op(n.op, {}, a), true};
}

}  // namespace

void register_source_ops(OpRegistry& reg) {
  OpInfo& c = reg.op(OpId::Constant);
  c.attrs = {{"dtype", AttrKind::DType}, {"value", AttrKind::Number}};
  c.signature = "() {dtype, value} -> scalar";
  c.infer = infer_constant;
  c.kernel = kernel_constant;
  c.differentiable = false;
  for (OpId id : {OpId::Rand, OpId::Randn}) {
    OpInfo& r = reg.op(id);
    r.attrs = {{"dtype", AttrKind::DType}, {"shape", AttrKind::Ints}, {"stream", AttrKind::Int}};
    r.signature = id == OpId::Rand ? "() {dtype, shape, stream} -> U[0,1)"
                                   : "() {dtype, shape, stream} -> N(0,1)";
    r.infer = infer_random;
    r.kernel = kernel_random;
    r.batch = batch_random;
    r.differentiable = false;
  }
}

}  // namespace jit::ir
