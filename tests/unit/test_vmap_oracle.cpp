// tests/unit/test_vmap_oracle.cpp: the vmap oracle, for every public op. vmap(f)(X) must equal f
// applied to each sample (jit::select) and stacked (jit::stack), for every combination of
// in_dim in {0, -1, none} over f's tensor arguments (all none is an error), batch sizes 1, 2, 3
// and 17, and one level of nesting, on both backends. One table row per op (or per form of an
// op); adding an op is adding a row.
#include "vmap_test_util.h"

#include "frontend/dispatch.h"

#include <array>
#include <utility>

namespace {

using jit::DType;
using jit::Shape;
using jit::Tensor;
using vt::InDim;
using A = std::span<const Tensor>;
using jit::detail::apply;
using jit::ir::OpId;

// How an argument's values are drawn, so every op sees inputs in its domain.
enum class Gen { Normal, Positive, Unit, Bool, Index, Int };

struct ArgSpec {
  Shape shape;  // per sample
  DType dtype = DType::f32;
  Gen gen = Gen::Normal;
  int64_t hi = 0;  // Index: values in [0, hi)
};

ArgSpec F(Shape s) { return {std::move(s)}; }                               // N(0, 1)
ArgSpec F64(Shape s) { return {std::move(s), DType::f64}; }
ArgSpec P(Shape s) { return {std::move(s), DType::f32, Gen::Positive}; }    // in [0.5, ...)
ArgSpec U(Shape s) { return {std::move(s), DType::f32, Gen::Unit}; }        // in (-1, 1)
ArgSpec B(Shape s) { return {std::move(s), DType::b8, Gen::Bool}; }
ArgSpec I(Shape s, int64_t hi) { return {std::move(s), DType::i64, Gen::Index, hi}; }
ArgSpec N(Shape s, DType t = DType::i32) { return {std::move(s), t, Gen::Int}; }

Tensor make(const ArgSpec& a, const Shape& shape, uint64_t seed) {
  Tensor r = jit::randn(shape, seed, a.dtype == DType::f64 ? DType::f64 : DType::f32);
  switch (a.gen) {
    case Gen::Normal: return r;
    case Gen::Positive: return jit::abs(r) + 0.5;
    case Gen::Unit: return jit::tanh(r);
    case Gen::Bool: return r > 0.0;
    case Gen::Index:
      return jit::cast(jit::floor(jit::rand(shape, seed) * double(a.hi)), DType::i64);
    case Gen::Int: return jit::cast(jit::round(r * 3.0), a.dtype);
  }
  return r;
}

struct OpCase {
  std::string name;
  std::vector<ArgSpec> args;
  vt::Fn f;

  template <class G>
  OpCase(std::string n, std::vector<ArgSpec> a, G g) : name(std::move(n)), args(std::move(a)) {
    f = [g](A x) -> std::vector<Tensor> {
      if constexpr (std::is_same_v<decltype(g(x)), Tensor>)
        return {g(x)};
      else
        return g(x);
    };
  }
};

// A binary op: tensor-tensor (broadcasting ranks 2 and 1), tensor-scalar and scalar-tensor.
#define BINARY(op, gen, s)                                                             \
  {#op, {gen({2, 3}), gen({3})}, [](A x) { return jit::op(x[0], x[1]); }},             \
  {#op "(t,t) same shape", {gen({3}), gen({3})}, [](A x) { return jit::op(x[0], x[1]); }}, \
  {#op "(t,s)", {gen({2, 3})}, [](A x) { return jit::op(x[0], s); }},                  \
  {#op "(s,t)", {gen({3})}, [](A x) { return jit::op(s, x[0]); }}
#define UNARY(op, gen) {#op, {gen({2, 3})}, [](A x) { return jit::op(x[0]); }}

const std::vector<OpCase>& cases() {
  static const std::vector<OpCase> table = {
      // ---- unary
      UNARY(neg, F), UNARY(abs, F), UNARY(sign, F), UNARY(exp, F), UNARY(log, P),
      UNARY(log1p, P), UNARY(expm1, F), UNARY(sqrt, P), UNARY(rsqrt, P), UNARY(square, F),
      UNARY(reciprocal, P), UNARY(sin, F), UNARY(cos, F), UNARY(tan, U), UNARY(tanh, F),
      UNARY(sigmoid, F), UNARY(relu, F), UNARY(gelu, F), UNARY(erf, F), UNARY(floor, F),
      UNARY(ceil, F), UNARY(round, F), UNARY(logical_not, B), UNARY(isnan, F), UNARY(isinf, F),
      UNARY(stop_gradient, F),
      {"gelu tanh", {F({4})}, [](A x) { return jit::gelu(x[0], true); }},
      {"neg i32", {N({4})}, [](A x) { return jit::neg(x[0]); }},
      {"abs i64", {N({2, 2}, DType::i64)}, [](A x) { return jit::abs(x[0]); }},
      {"relu f64", {F64({3})}, [](A x) { return jit::relu(x[0]); }},
      {"square bool", {B({3})}, [](A x) { return jit::square(x[0]); }},
      {"exp of i32", {N({3})}, [](A x) { return jit::exp(x[0]); }},
      {"neg of a scalar", {F({})}, [](A x) { return jit::neg(x[0]); }},
      {"cast f32->i32", {F({2, 3})}, [](A x) { return jit::cast(x[0] * 3.0, DType::i32); }},
      {"cast f32->f64", {F({3})}, [](A x) { return jit::cast(x[0], DType::f64); }},
      {"cast i32->bool", {N({3})}, [](A x) { return jit::cast(x[0], DType::b8); }},
      {"operator-", {F({3})}, [](A x) { return -x[0]; }},
      // ---- binary, with the scalar forms
      BINARY(add, F, 1.5), BINARY(sub, F, 1.5), BINARY(mul, F, -2.0), BINARY(div, P, 3.0),
      BINARY(pow, P, 1.5), BINARY(maximum, F, 0.25), BINARY(minimum, F, 0.25),
      BINARY(eq, N, 1), BINARY(ne, N, 1), BINARY(lt, F, 0.5), BINARY(le, N, 0),
      BINARY(gt, F, 0.5), BINARY(ge, N, 0), BINARY(logical_and, B, true),
      BINARY(logical_or, B, false),
      {"add i32 + f32 (promotion)", {N({3}), F({3})}, [](A x) { return x[0] + x[1]; }},
      {"add i32 + 2.5", {N({3})}, [](A x) { return x[0] + 2.5; }},
      {"div i32 / i32", {N({3}), N({3})}, [](A x) { return x[0] / (jit::abs(x[1]) + 1); }},
      {"mul f64 [2,1] * [1,3]", {F64({2, 1}), F64({1, 3})}, [](A x) { return x[0] * x[1]; }},
      {"add scalar + [3]", {F({}), F({3})}, [](A x) { return x[0] + x[1]; }},
      // ---- where and clamp
      {"where(t,t,t)", {B({2, 3}), F({3}), F({2, 1})}, [](A x) { return jit::where(x[0], x[1], x[2]); }},
      {"where(t,t,s)", {B({3}), F({2, 3})}, [](A x) { return jit::where(x[0], x[1], 0.5); }},
      {"where(t,s,t)", {B({2, 3}), F({3})}, [](A x) { return jit::where(x[0], -1.0, x[1]); }},
      {"where(t,s,s)", {B({2, 3})}, [](A x) { return jit::where(x[0], 1.0, 2.0); }},
      {"clamp(lo,hi)", {F({2, 3})}, [](A x) { return jit::clamp(x[0], -0.5, 0.5); }},
      {"clamp(lo)", {F({2, 3})}, [](A x) { return jit::clamp(x[0], -0.5, std::nullopt); }},
      {"clamp(hi)", {F({2, 3})}, [](A x) { return jit::clamp(x[0], std::nullopt, 0.5); }},
      {"clamp(t,t,t)", {F({2, 3}), F({3}), F({2, 3})},
       [](A x) { return jit::clamp(x[0], x[1], x[1] + jit::abs(x[2])); }},
      {"clamp(t,t,undefined)", {F({2, 3}), F({3})}, [](A x) { return jit::clamp(x[0], x[1], Tensor()); }},
      // ---- reductions
      {"sum", {F({2, 3})}, [](A x) { return jit::sum(x[0]); }},
      {"sum dim 1", {F({2, 3})}, [](A x) { return jit::sum(x[0], {1}); }},
      {"sum dims -1,0 keepdim", {F({2, 3, 2})}, [](A x) { return jit::sum(x[0], {-1, 0}, true); }},
      {"sum i32", {N({2, 3})}, [](A x) { return jit::sum(x[0], {0}); }},
      {"sum of a scalar", {F({})}, [](A x) { return jit::sum(x[0]); }},
      {"mean dim 0", {F({2, 3})}, [](A x) { return jit::mean(x[0], {0}); }},
      {"mean keepdim", {F({2, 3})}, [](A x) { return jit::mean(x[0], {}, true); }},
      {"prod dim -1", {U({2, 3})}, [](A x) { return jit::prod(x[0], {-1}); }},
      {"max", {F({2, 3})}, [](A x) { return jit::max(x[0]); }},
      {"max dim 0 keepdim", {F({2, 3})}, [](A x) { return jit::max(x[0], {0}, true); }},
      {"min dim 1", {N({2, 3})}, [](A x) { return jit::min(x[0], {1}); }},
      {"logsumexp dim 1", {F({2, 3})}, [](A x) { return jit::logsumexp(x[0], {1}); }},
      {"logsumexp all keepdim", {F({2, 3})}, [](A x) { return jit::logsumexp(x[0], {}, true); }},
      {"var", {F({2, 3})}, [](A x) { return jit::var(x[0]); }},
      {"var dim 0 correction 0 keepdim", {F({3, 2})}, [](A x) { return jit::var(x[0], {0}, 0, true); }},
      {"argmax", {F({2, 3})}, [](A x) { return jit::argmax(x[0]); }},
      {"argmax keepdim", {F({2, 3})}, [](A x) { return jit::argmax(x[0], std::nullopt, true); }},
      {"argmax dim 1", {F({2, 3})}, [](A x) { return jit::argmax(x[0], 1); }},
      {"argmin dim 0 keepdim", {F({2, 3})}, [](A x) { return jit::argmin(x[0], 0, true); }},
      {"argmin dim -1", {N({3, 4})}, [](A x) { return jit::argmin(x[0], -1); }},
      // ---- contractions
      {"dot", {F({4}), F({4})}, [](A x) { return jit::dot(x[0], x[1]); }},
      {"dot i32", {N({4}), N({4})}, [](A x) { return jit::dot(x[0], x[1]); }},
      {"mv", {F({3, 4}), F({4})}, [](A x) { return jit::mv(x[0], x[1]); }},
      {"mm", {F({2, 3}), F({3, 4})}, [](A x) { return jit::mm(x[0], x[1]); }},
      {"matmul [3].[3]", {F({3}), F({3})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [2,3].[3]", {F({2, 3}), F({3})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [3].[3,2]", {F({3}), F({3, 2})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [2,3].[3,4]", {F({2, 3}), F({3, 4})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [2,2,3].[3,2]", {F({2, 2, 3}), F({3, 2})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [2,3].[2,3,2]", {F({2, 3}), F({2, 3, 2})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [1,2,3].[2,3,2]", {F({1, 2, 3}), F({2, 3, 2})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [2,2,3].[3]", {F({2, 2, 3}), F({3})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"matmul [3].[2,3,2]", {F({3}), F({2, 3, 2})}, [](A x) { return jit::matmul(x[0], x[1]); }},
      {"outer", {F({3}), F({2})}, [](A x) { return jit::outer(x[0], x[1]); }},
      {"outer bool", {B({3}), B({2})}, [](A x) { return jit::outer(x[0], x[1]); }},
      // ---- layout
      {"reshape", {F({2, 3})}, [](A x) { return jit::reshape(x[0], {3, 2}); }},
      {"reshape -1", {F({2, 3, 2})}, [](A x) { return jit::reshape(x[0], {-1, 4}); }},
      {"reshape to a scalar", {F({1})}, [](A x) { return jit::reshape(x[0], {}); }},
      {"reshape a scalar", {F({})}, [](A x) { return jit::reshape(x[0], {1, 1}); }},
      {"transpose", {F({2, 3})}, [](A x) { return jit::transpose(x[0], 0, 1); }},
      {"transpose -1 -3", {F({2, 3, 4})}, [](A x) { return jit::transpose(x[0], -1, -3); }},
      {"permute", {F({2, 3, 4})}, [](A x) { return jit::permute(x[0], {2, 0, 1}); }},
      {"movedim", {F({2, 3, 4})}, [](A x) { return jit::movedim(x[0], 0, -1); }},
      {"expand", {F({1, 3})}, [](A x) { return jit::expand(x[0], {2, 3}); }},
      {"expand new dims, -1", {F({3})}, [](A x) { return jit::expand(x[0], {2, 2, -1}); }},
      {"expand a scalar", {F({})}, [](A x) { return jit::expand(x[0], {2, 3}); }},
      {"squeeze", {F({1, 3, 1})}, [](A x) { return jit::squeeze(x[0]); }},
      {"squeeze dim", {F({3, 1})}, [](A x) { return jit::squeeze(x[0], -1); }},
      {"unsqueeze 0", {F({2, 3})}, [](A x) { return jit::unsqueeze(x[0], 0); }},
      {"unsqueeze -1", {F({2, 3})}, [](A x) { return jit::unsqueeze(x[0], -1); }},
      {"flatten", {F({2, 3, 2})}, [](A x) { return jit::flatten(x[0]); }},
      {"flatten 1..2", {F({2, 3, 2})}, [](A x) { return jit::flatten(x[0], 1, 2); }},
      {"flatten a scalar", {F({})}, [](A x) { return jit::flatten(x[0]); }},
      {"slice step 2", {F({2, 5})}, [](A x) { return jit::slice(x[0], 1, 1, std::nullopt, 2); }},
      {"slice negative bounds", {F({5, 2})}, [](A x) { return jit::slice(x[0], 0, -4, -1); }},
      {"narrow", {F({2, 5})}, [](A x) { return jit::narrow(x[0], -1, 1, 3); }},
      {"select", {F({2, 3})}, [](A x) { return jit::select(x[0], 1, -1); }},
      {"unbind (three outputs)", {F({2, 3})}, [](A x) { return jit::unbind(x[0], 1); }},
      {"index_select", {F({4, 3}), I({5}, 4)}, [](A x) { return jit::index_select(x[0], 0, x[1]); }},
      {"index_select dim 1", {F({2, 4}), I({3}, 4)}, [](A x) { return jit::index_select(x[0], 1, x[1]); }},
      {"index_select 0-d index", {F({4, 3}), I({}, 4)}, [](A x) { return jit::index_select(x[0], 0, x[1]); }},
      {"gather dim 1", {F({3, 4}), I({3, 2}, 4)}, [](A x) { return jit::gather(x[0], 1, x[1]); }},
      {"gather dim 0", {F({4, 3}), I({2, 3}, 4)}, [](A x) { return jit::gather(x[0], 0, x[1]); }},
      {"concat", {F({2, 3}), F({2, 1})}, [](A x) { return jit::concat({x[0], x[1]}, 1); }},
      {"concat three, promoting", {F({2}), N({3}), F({1})},
       [](A x) { return jit::concat({x[0], x[1], x[2]}); }},
      {"stack", {F({3}), F({3})}, [](A x) { return jit::stack({x[0], x[1]}); }},
      {"stack dim -1", {F({2, 3}), F({2, 3})}, [](A x) { return jit::stack({x[0], x[1]}, -1); }},
      // ---- other dtypes and empty samples
      {"index_select i32 index", {F({4, 2}), {{3}, DType::i32, Gen::Index, 4}},
       [](A x) { return jit::index_select(x[0], 0, x[1]); }},
      {"gather i32 index", {N({3, 4}), {{3, 2}, DType::i32, Gen::Index, 4}},
       [](A x) { return jit::gather(x[0], 1, x[1]); }},
      {"mv f64", {F64({3, 2}), F64({2})}, [](A x) { return jit::mv(x[0], x[1]); }},
      {"sum bool", {B({2, 3})}, [](A x) { return jit::sum(x[0], {1}); }},
      {"max bool", {B({2, 3})}, [](A x) { return jit::max(x[0], {0}); }},
      {"argmax i64", {N({2, 3}, DType::i64)}, [](A x) { return jit::argmax(x[0], 1); }},
      {"where i32", {B({3}), N({3}), N({3})}, [](A x) { return jit::where(x[0], x[1], x[2]); }},
      {"clamp i32", {N({2, 3})}, [](A x) { return jit::clamp(x[0], -1, 1); }},
      {"exp of an empty sample", {F({2, 0})}, [](A x) { return jit::exp(x[0]); }},
      {"sum over an empty dim", {F({0, 3})}, [](A x) { return jit::sum(x[0], {0}); }},
      {"mm with k = 0", {F({2, 0}), F({0, 3})}, [](A x) { return jit::mm(x[0], x[1]); }},
      {"concat with an empty part", {F({2, 0}), F({2, 3})}, [](A x) { return jit::concat({x[0], x[1]}, 1); }},
      // ---- primitives no public op makes directly (the derivatives of slice, index_select and
      // gather use them)
      {"pad (primitive)", {F({2, 3})},
       [](A x) {
         return apply(OpId::Pad, {x[0]},
                      {{"dim", int64_t(1)}, {"start", int64_t(1)}, {"step", int64_t(2)}, {"size", int64_t(7)}});
       }},
      {"scatter_add (primitive)", {F({3, 4}), I({3, 2}, 4), F({3, 2})},
       [](A x) { return apply(OpId::ScatterAdd, {x[0], x[1], x[2]}, {{"dim", int64_t(1)}}); }},
      {"scatter_add dim 0 (primitive)", {F({4, 2}), I({3, 2}, 4), F({3, 2})},
       [](A x) { return apply(OpId::ScatterAdd, {x[0], x[1], x[2]}, {{"dim", int64_t(0)}}); }},
      // ---- normalisation
      {"softmax", {F({2, 3})}, [](A x) { return jit::softmax(x[0], 1); }},
      {"softmax dim 0", {F({2, 3})}, [](A x) { return jit::softmax(x[0], 0); }},
      {"log_softmax", {F({2, 3})}, [](A x) { return jit::log_softmax(x[0], -1); }},
      {"layer_norm", {F({2, 4})}, [](A x) { return jit::layer_norm(x[0], {4}); }},
      {"layer_norm weight bias", {F({2, 3}), F({3}), F({3})},
       [](A x) { return jit::layer_norm(x[0], {3}, x[1], x[2]); }},
      {"layer_norm 2-d", {F({2, 2, 3}), F({2, 3})},
       [](A x) { return jit::layer_norm(x[0], {2, 3}, x[1]); }},
  };
  return table;
}
#undef BINARY
#undef UNARY

// Every combination of in_dim in {0, -1, none} over n arguments but all none.
std::vector<std::vector<InDim>> combinations(size_t n) {
  std::vector<std::vector<InDim>> out;
  const InDim choices[] = {0, -1, std::nullopt};
  size_t total = 1;
  for (size_t i = 0; i < n; ++i) total *= 3;
  for (size_t k = 0; k < total; ++k) {
    std::vector<InDim> c;
    bool any = false;
    for (size_t i = 0, r = k; i < n; ++i, r /= 3) {
      c.push_back(choices[r % 3]);
      any |= c.back().has_value();
    }
    if (any) out.push_back(std::move(c));
  }
  return out;
}

// A vmapped function of n tensors as a function of a list of tensors, with its cache stats.
struct Vmapped {
  std::function<std::vector<Tensor>(A)> call;
  std::function<jit::CacheStats()> stats;
};

template <size_t>
using TensorAt = Tensor;

template <size_t... I>
Vmapped wrap(const vt::Fn& f, jit::DimSpec in, jit::DimSpec out, jit::VmapOptions o,
             std::optional<std::pair<jit::DimSpec, jit::DimSpec>> outer, std::index_sequence<I...>) {
  auto lifted = [f](const TensorAt<I>&... a) {
    std::array<Tensor, sizeof...(I)> xs{a...};
    return f(xs);
  };
  auto inner = jit::vmap(lifted, std::move(in), std::move(out), o);
  if (!outer)
    return {[inner](A x) { return inner(x[I]...); }, [inner] { return jit::cache_stats(inner); }};
  auto v = jit::vmap(inner, outer->first, outer->second, o);
  return {[v](A x) { return v(x[I]...); }, [v] { return jit::cache_stats(v); }};
}

Vmapped wrap(size_t n, const vt::Fn& f, jit::DimSpec in, jit::DimSpec out, jit::VmapOptions o,
             std::optional<std::pair<jit::DimSpec, jit::DimSpec>> outer = std::nullopt) {
  switch (n) {
    case 1: return wrap(f, in, out, o, outer, std::make_index_sequence<1>{});
    case 2: return wrap(f, in, out, o, outer, std::make_index_sequence<2>{});
    case 3: return wrap(f, in, out, o, outer, std::make_index_sequence<3>{});
  }
  FAIL("no wrapper for " << n << " arguments");
  return {};
}

// Inputs for one call: argument i has the batch dims of `dims` (applied in order, each a dim or
// none with its batch size), inserted into its per-sample shape.
std::vector<Tensor> inputs(const OpCase& c, std::span<const std::pair<std::span<const InDim>, int64_t>> dims,
                           uint64_t seed) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < c.args.size(); ++i) {
    Shape s = c.args[i].shape;
    for (const auto& [d, batch] : dims)
      if (d[i]) s = vt::insert_dim(s, *d[i], batch);
    xs.push_back(make(c.args[i], s, seed * 31 + i));
  }
  return xs;
}

// x's values in a view whose elements are two apart (every other element of a buffer that
// `keep` holds): an input that is not contiguous.
Tensor strided(const Tensor& x, std::vector<Tensor>& keep) {
  if (x.numel() == 0) return x;
  keep.push_back(jit::stack({x, jit::zeros_like(x)}, -1));
  Shape st(x.dim());
  for (int64_t d = x.dim(), acc = 2; d-- > 0; acc *= x.size(d)) st[d] = acc;
  return jit::from_blob(keep.back().data(), x.shape(), x.dtype(), st);
}

const InDim kOut0[] = {0};
const InDim kOutLast[] = {-1};

void check_case(const OpCase& c, jit::Backend backend) {
  size_t n = c.args.size();
  jit::VmapOptions o{.backend = backend, .name = c.name};
  // All none: nothing to map over.
  {
    std::vector<InDim> none(n, std::nullopt);
    Vmapped v = wrap(n, c.f, vt::to_spec(none), 0, o);
    std::vector<std::pair<std::span<const InDim>, int64_t>> dims{{none, 1}};
    std::vector<Tensor> xs = inputs(c, dims, 1);
    std::string msg = vt::error_of([&] { v.call(xs); }, jit::ErrorKind::InvalidArgument);
    CHECK_MENTIONS(msg, "no argument is mapped");
  }
  auto combos = combinations(n);
  for (size_t k = 0; k < combos.size(); ++k) {
    const std::vector<InDim>& in = combos[k];
    CAPTURE(vt::dims_string(in));
    Vmapped v = wrap(n, c.f, vt::to_spec(in), 0, o);
    for (int64_t batch : {1, 2, 3, 17}) {
      CAPTURE(batch);
      std::vector<std::pair<std::span<const InDim>, int64_t>> dims{{in, batch}};
      std::vector<Tensor> xs = inputs(c, dims, batch);
      std::vector<Tensor> got;
      try {
        got = v.call(xs);
      } catch (const jit::Error& e) {
        FAIL_CHECK("vmap threw: " << e.what());
        continue;
      }
      CHECK_CLOSE(got, vt::per_sample(c.f, in, kOut0, xs));
    }
    jit::CacheStats st = v.stats();
    CHECK_MESSAGE(st.fallbacks == 0, "the op fell back to running per sample");
    // (An empty input counts as strided for some batch sizes, which is part of the signature:
    // Tensor::is_contiguous is false for [2, 0, 3]. Reported; not vmap's business.)
    bool empty = false;
    for (const ArgSpec& a : c.args)
      for (int64_t d : a.shape) empty |= d == 0;
    if (!empty) CHECK_MESSAGE(st.compiles <= 1, "the batch size must not be part of the signature");

    // Strided inputs (a new signature), for the first combination only.
    if (k == 0) {
      std::vector<std::pair<std::span<const InDim>, int64_t>> dims{{in, 5}};
      std::vector<Tensor> xs = inputs(c, dims, 5), keep, views;
      for (const Tensor& x : xs) views.push_back(strided(x, keep));
      INFO("strided inputs");
      CHECK_CLOSE(v.call(views), vt::per_sample(c.f, in, kOut0, xs));
    }

    // One level of nesting: the outer vmap maps `in`, the inner one the next combination (so
    // every argument is mapped by the outer, the inner, both or neither); the inner puts its
    // batch dim last. Inner batch 3, outer 2; for the first combination also inner batch 1
    // (the inner batch size is static in the outer trace, so that is a new signature).
    const std::vector<InDim>& inner = combos[(k + 1) % combos.size()];
    CAPTURE(vt::dims_string(inner));
    Vmapped nested = wrap(n, c.f, vt::to_spec(inner), -1, o, std::pair{vt::to_spec(in), jit::DimSpec(0)});
    vt::Fn inner_ref = [&](A s) { return vt::per_sample(c.f, inner, kOutLast, s); };
    for (int64_t inner_batch : {3, 1}) {
      if (inner_batch == 1 && k != 0) break;
      CAPTURE(inner_batch);
      std::vector<std::pair<std::span<const InDim>, int64_t>> dims{{inner, inner_batch}, {in, 2}};
      std::vector<Tensor> xs = inputs(c, dims, 99);
      try {
        CHECK_CLOSE(nested.call(xs), vt::per_sample(inner_ref, in, kOut0, xs));
      } catch (const jit::Error& e) {
        FAIL_CHECK("nested vmap threw: " << e.what());
      }
    }
  }
}

void check_all(jit::Backend backend) {
  for (const OpCase& c : cases()) {
    CAPTURE(c.name);
    check_case(c, backend);
  }
}

}  // namespace

TEST_CASE("vmap oracle (interpreter): every op, in_dims combination, batch size, nesting") {
  check_all(jit::Backend::Interpreter);
}

TEST_CASE("vmap oracle (compiled): every op, in_dims combination, batch size, nesting") {
  check_all(jit::Backend::Compiled);
}
