// frontend/api_random.cpp: the public random ops and the process generator's seed.
#include "frontend/dispatch.h"
#include "jit/ops.h"

namespace jit {
namespace {
DType float_or_default(DType t) { return is_float(t) ? t : DType::f32; }
}  // namespace

Tensor rand(const Shape& shape, DType dtype) { return detail::random(ir::OpId::Rand, shape, dtype); }
Tensor randn(const Shape& shape, DType dtype) { return detail::random(ir::OpId::Randn, shape, dtype); }
Tensor rand_like(const Tensor& x) { return rand(x.shape(), float_or_default(x.dtype())); }
Tensor randn_like(const Tensor& x) { return randn(x.shape(), float_or_default(x.dtype())); }
void manual_seed(uint64_t seed) { detail::Generator::seed(seed); }

}  // namespace jit
