// jit/ops.h: the tensor operations. Each runs eagerly on concrete tensors and records a node when
// called on symbolic ones (inside jit::vmap, jit::grad, ...), with torch's semantics: broadcasting,
// type promotion, keepdim, negative dims.
#pragma once

#include <optional>
#include <vector>

#include "jit/tensor.h"

namespace jit {

using Dims = std::vector<int64_t>;  // a list of dims; empty means "all" for reductions

// ---- unary -------------------------------------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor erf(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);  // half to even, as torch
Tensor logical_not(const Tensor& x);
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor cast(const Tensor& x, DType dtype);
// x, with no gradient flowing through it (torch's detach, JAX's stop_gradient).
Tensor stop_gradient(const Tensor& x);

// ---- binary, broadcasting; a Scalar may stand on either side -----------------------------------
#define JIT_BINARY(name)                              \
  Tensor name(const Tensor& a, const Tensor& b);      \
  Tensor name(const Tensor& a, Scalar b);             \
  Tensor name(Scalar a, const Tensor& b);
JIT_BINARY(add)
JIT_BINARY(sub)
JIT_BINARY(mul)
JIT_BINARY(div)  // true division: integers promote to f32
JIT_BINARY(pow)
JIT_BINARY(maximum)  // NaN-propagating
JIT_BINARY(minimum)
JIT_BINARY(eq)
JIT_BINARY(ne)
JIT_BINARY(lt)
JIT_BINARY(le)
JIT_BINARY(gt)
JIT_BINARY(ge)
JIT_BINARY(logical_and)
JIT_BINARY(logical_or)
#undef JIT_BINARY

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
Tensor where(const Tensor& cond, Scalar a, Scalar b);
Tensor clamp(const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi);
Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi);  // an undefined bound: none
// a * b + c rounded once (std::fma elementwise, broadcasting); floating-point operands. The
// compiler also forms it from a * b + c itself unless VmapOptions::fp_contract is false.
Tensor fma(const Tensor& a, const Tensor& b, const Tensor& c);

Tensor operator-(const Tensor& x);
#define JIT_OPERATOR(op, fn)                                                   \
  inline Tensor operator op(const Tensor& a, const Tensor& b) { return fn(a, b); } \
  inline Tensor operator op(const Tensor& a, Scalar b) { return fn(a, b); }        \
  inline Tensor operator op(Scalar a, const Tensor& b) { return fn(a, b); }
JIT_OPERATOR(+, add)
JIT_OPERATOR(-, sub)
JIT_OPERATOR(*, mul)
JIT_OPERATOR(/, div)
JIT_OPERATOR(<, lt)
JIT_OPERATOR(<=, le)
JIT_OPERATOR(>, gt)
JIT_OPERATOR(>=, ge)
#undef JIT_OPERATOR

// ---- reductions over `dims` (all when empty) -----------------------------------------------------
Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // values (amax)
Tensor min(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // values (amin)
Tensor logsumexp(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
// The index of the first maximum (minimum) along `dim`, or into the flattened tensor when absent.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// ---- contractions --------------------------------------------------------------------------------
Tensor dot(const Tensor& a, const Tensor& b);     // [n] . [n] -> []
Tensor mv(const Tensor& a, const Tensor& b);      // [m, n] . [n] -> [m]
Tensor mm(const Tensor& a, const Tensor& b);      // [m, k] . [k, n] -> [m, n]
Tensor matmul(const Tensor& a, const Tensor& b);  // torch.matmul, batch dims broadcast
Tensor outer(const Tensor& a, const Tensor& b);   // [m], [n] -> [m, n]

// ---- layout --------------------------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 may be inferred
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const Dims& dims);
Tensor movedim(const Tensor& x, int64_t src, int64_t dst);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a dim; new dims lead
Tensor squeeze(const Tensor& x);                     // every size-1 dim
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // x[..., index, ...], dim removed
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);   // every select along dim
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);

// ---- normalisation -------------------------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// ---- random --------------------------------------------------------------------------------------
// Draws from the process's generator (see manual_seed). Inside jit::vmap they follow the
// function's Randomness option.
Tensor rand(const Shape& shape, DType dtype = DType::f32);
Tensor randn(const Shape& shape, DType dtype = DType::f32);
Tensor rand_like(const Tensor& x);
Tensor randn_like(const Tensor& x);
void manual_seed(uint64_t seed);

}  // namespace jit
