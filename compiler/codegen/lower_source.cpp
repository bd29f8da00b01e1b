// codegen/lower_source.cpp: lowering of constants and random ops. A random element is a pure
// function of its flat index (Philox-4x32-10, as ops/philox.h), so it is computed inline
// wherever it is used, in vector lanes, with the same bits as the reference kernel.
#include <cmath>

#include "codegen/lowering.h"
#include "ir/types.h"

namespace jit::cg {
namespace {

using llvm::Value;

Value* lower_constant(Emitter& e, const ir::Node& n, const Index&) {
  if (e.analyzing()) return e.count(0);
  DType t = n.type.dtype;
  return is_float(t) ? e.const_float(n.attrs.get_float("value"), t) : e.const_int(n.attrs.get_int("value"), t);
}

// The four 32-bit words of Philox-4x32-10 for counters `c` (each <W x i32>) under key (k0, k1).
std::array<Value*, 4> philox(Emitter& e, std::array<Value*, 4> c, Value* k0, Value* k1) {
  auto& B = e.b();
  llvm::Type* i32 = c[0]->getType();
  llvm::Type* i64 = i32->isVectorTy() ? static_cast<llvm::Type*>(llvm::FixedVectorType::get(B.getInt64Ty(), e.width()))
                                      : B.getInt64Ty();
  auto k64 = [&](uint64_t v) { return llvm::ConstantInt::get(i64, v); };
  for (int r = 0; r < 10; ++r) {
    Value* p0 = B.CreateMul(B.CreateZExt(c[0], i64), k64(0xD2511F53u));
    Value* p1 = B.CreateMul(B.CreateZExt(c[2], i64), k64(0xCD9E8D57u));
    auto hi = [&](Value* p) { return B.CreateTrunc(B.CreateLShr(p, k64(32)), i32); };
    auto lo = [&](Value* p) { return B.CreateTrunc(p, i32); };
    c = {B.CreateXor(B.CreateXor(hi(p1), c[1]), k0), lo(p1), B.CreateXor(B.CreateXor(hi(p0), c[3]), k1), lo(p0)};
    k0 = B.CreateAdd(k0, llvm::ConstantInt::get(i32, 0x9E3779B9u));
    k1 = B.CreateAdd(k1, llvm::ConstantInt::get(i32, 0xBB67AE85u));
  }
  return c;
}

Value* lower_random(Emitter& e, const ir::Node& n, const Index& at) {
  // The flat index: row-major over the shape; the batch dim (first, when present) counts whole
  // samples of the absolute batch index, as the reference kernel does. (Flat elementwise
  // groups rely on this: at (0, ..., 0, b * inner + i) the sum is the same; see flat_extent.)
  const Shape& s = n.type.shape;
  IndexDim flat = IndexDim::constant(0);
  bool dynamic = false;
  int64_t stride = 1;
  std::vector<std::pair<const IndexDim*, int64_t>> parts;
  for (size_t d = s.size(); d-- > 0;) {
    parts.push_back({&at[d], stride});
    dynamic |= at[d].dynamic;
    if (s[d] != ir::kDyn) stride *= s[d];
  }
  if (!dynamic)
    for (auto [dim, k] : parts) flat = flat.plus(dim->scaled(k));
  if (e.analyzing()) return e.count(n.op == ir::OpId::Randn ? 60 : 30);
  auto& B = e.b();
  Value* j;
  if (!dynamic) {
    j = e.index_value(flat);
  } else {
    j = nullptr;
    for (auto [dim, k] : parts) {
      Value* term = B.CreateMul(e.index_value(*dim), llvm::ConstantInt::get(e.index_value(IndexDim::constant(0))->getType(), k));
      j = j ? B.CreateAdd(j, term) : term;
    }
  }
  llvm::Type* i32 = e.width() == 1 ? static_cast<llvm::Type*>(B.getInt32Ty())
                                   : llvm::FixedVectorType::get(B.getInt32Ty(), e.width());
  auto splat32 = [&](Value* scalar) { return e.splat(B.CreateTrunc(scalar, B.getInt32Ty())); };
  Value* seed = e.seed();
  Value* call = e.call_number();
  auto c64 = [&](uint64_t v) { return llvm::ConstantInt::get(j->getType(), v); };
  std::array<Value*, 4> ctr{B.CreateTrunc(j, i32), B.CreateTrunc(B.CreateLShr(j, c64(32)), i32),
                            llvm::ConstantInt::get(i32, static_cast<uint64_t>(n.attrs.get_int("stream"))),
                            splat32(call)};
  Value* k0 = splat32(seed);
  Value* k1 = B.CreateXor(splat32(B.CreateLShr(seed, 32)), splat32(B.CreateLShr(call, 32)));
  std::array<Value*, 4> w = philox(e, ctr, k0, k1);
  bool f32 = n.type.dtype == DType::f32;
  DType ft = DType::f64;
  llvm::Type* dt = e.value_type(DType::f64);
  llvm::Type* i64 = j->getType();
  auto bits24 = [&](Value* x) {  // (x >> 8) * 2^-24, in double
    return B.CreateFMul(B.CreateUIToFP(B.CreateLShr(x, llvm::ConstantInt::get(i32, 8)), dt), e.const_float(0x1p-24, ft));
  };
  auto bits53 = [&](Value* hi, Value* lo) {
    Value* v = B.CreateOr(B.CreateShl(B.CreateZExt(hi, i64), c64(32)), B.CreateZExt(lo, i64));
    return B.CreateFMul(B.CreateUIToFP(B.CreateLShr(v, c64(11)), dt), e.const_float(0x1p-53, ft));
  };
  Value* r;
  if (n.op == ir::OpId::Rand) {
    r = f32 ? bits24(w[0]) : bits53(w[0], w[1]);
  } else {
    Value* u1 = f32 ? B.CreateFAdd(bits24(w[0]), e.const_float(0x1p-24, ft)) : B.CreateFAdd(bits53(w[0], w[1]), e.const_float(0x1p-53, ft));
    Value* u2 = f32 ? bits24(w[1]) : bits53(w[2], w[3]);
    Value* radius = B.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt,
                                           B.CreateFMul(e.const_float(-2.0, ft), emit_math(e, MathFn::Log, {u1})));
    Value* angle = emit_math(e, MathFn::Cos, {B.CreateFMul(e.const_float(2.0 * M_PI, ft), u2)});
    r = B.CreateFMul(radius, angle);
  }
  return f32 ? B.CreateFPTrunc(r, e.value_type(DType::f32)) : r;
}

}  // namespace

void register_source_lowering(ir::OpRegistry& r) {
  r.op(ir::OpId::Constant).lower = lower_constant;
  r.op(ir::OpId::Rand).lower = lower_random;
  r.op(ir::OpId::Randn).lower = lower_random;
}

}  // namespace jit::cg
