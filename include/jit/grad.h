// jit/grad.h: automatic differentiation, composable with vmap and with itself, and compiled.
//
//   auto df   = jit::grad(loss);                      // d loss / d arg 0 (loss returns a scalar)
//   auto both = jit::value_and_grad(loss, {1, 2});    // (loss, {d/d arg 1, d/d arg 2})
//   auto psg  = jit::vmap(jit::grad(loss, 1), {jit::none, 0, 0});  // per-sample gradients
//   auto J    = jit::jacrev(f)(x);                     // [out dims..., in dims...]
//   auto H    = jit::hessian(f)(x);
//   auto [y, pullback] = jit::vjp(f, x);  Tensor gx = pullback(ct);
//   auto [y2, ty] = jit::jvp(f, std::tuple{x}, std::tuple{t});
//
// Each transform traces f once per signature (shapes, dtypes, non-tensor arguments), builds the
// derivative as IR from the op table's rules, and compiles it. Called inside another traced
// function (vmap of grad, grad of a function calling vmap, jacrev of jacrev), it is traced
// inline, so the whole composition compiles to one function.
#pragma once

#include "jit/vmap.h"

namespace jit {

struct GradOptions {
  Backend backend = Backend::Compiled;
  std::string name;         // the function's name in errors
  bool fp_contract = true;  // as VmapOptions::fp_contract
};

namespace detail {
enum class AdKind { Grad, ValueAndGrad, JacRev, JacFwd, Vjp, Jvp };
// argnums: argument positions; for Vjp and Jvp, `count` is the number of primal arguments.
std::shared_ptr<TransformState> make_ad_state(AdKind kind, std::vector<int> argnums, int count,
                                              GradOptions o);

// Calls f with the first N of its arguments (vjp's and jvp's cotangents or tangents follow).
template <class F, size_t N>
struct FirstArgs {
  F f;
  template <class... A>
  decltype(auto) operator()(const A&... a) const {
    auto all = std::forward_as_tuple(a...);
    return [&]<size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
      return f(std::get<I>(all)...);
    }(std::make_index_sequence<N>{});
  }
};
}  // namespace detail

// The gradient of f's scalar output with respect to argument `argnum` (a floating-point tensor).
template <class F>
Transformed<std::decay_t<F>, Tensor> grad(F&& f, int argnum = 0, GradOptions o = {}) {
  return {std::forward<F>(f), detail::make_ad_state(detail::AdKind::Grad, {argnum}, 0, std::move(o))};
}
// With respect to several arguments: one gradient each.
template <class F>
Transformed<std::decay_t<F>, std::vector<Tensor>> grad(F&& f, std::vector<int> argnums,
                                                       GradOptions o = {}) {
  return {std::forward<F>(f), detail::make_ad_state(detail::AdKind::Grad, std::move(argnums), 0, std::move(o))};
}

// f's value and its gradient, in one compiled function.
template <class F>
Transformed<std::decay_t<F>, std::pair<Tensor, Tensor>> value_and_grad(F&& f, int argnum = 0,
                                                                       GradOptions o = {}) {
  return {std::forward<F>(f), detail::make_ad_state(detail::AdKind::ValueAndGrad, {argnum}, 0, std::move(o))};
}

// The Jacobian of f's one output with respect to argument `argnum`: [output dims..., input
// dims...]. jacrev builds it row by row in reverse mode (a vmap of the VJP over a basis of the
// output), jacfwd column by column in forward mode.
template <class F>
Transformed<std::decay_t<F>, Tensor> jacrev(F&& f, int argnum = 0, GradOptions o = {}) {
  return {std::forward<F>(f), detail::make_ad_state(detail::AdKind::JacRev, {argnum}, 0, std::move(o))};
}
template <class F>
Transformed<std::decay_t<F>, Tensor> jacfwd(F&& f, int argnum = 0, GradOptions o = {}) {
  return {std::forward<F>(f), detail::make_ad_state(detail::AdKind::JacFwd, {argnum}, 0, std::move(o))};
}

// The matrix of second derivatives: jacfwd of jacrev.
template <class F>
auto hessian(F&& f, int argnum = 0, GradOptions o = {}) {
  return jacfwd(jacrev(std::forward<F>(f), argnum, o), argnum, o);
}

// f's outputs at the primals, and a pullback: pullback(cotangents...) gives the gradient of
// sum(output * cotangent) with respect to each primal (a Tensor for one primal, else a vector).
// The pullback composes with vmap: vmap(pullback)(basis) is a Jacobian.
template <class F, class... X>
auto vjp(const F& f, const X&... primals) {
  constexpr size_t n = sizeof...(X);
  using Grads = std::conditional_t<n == 1, Tensor, std::vector<Tensor>>;
  auto outputs = compile(f)(primals...);
  Transformed<detail::FirstArgs<F, n>, Grads> back(
      detail::FirstArgs<F, n>{f}, detail::make_ad_state(detail::AdKind::Vjp, {}, static_cast<int>(n), {}));
  auto pullback = [back, primals...](const auto&... cotangents) { return back(primals..., cotangents...); };
  return std::make_pair(outputs, pullback);
}

// Forward mode: f's outputs at the primals and their directional derivatives along the
// tangents (one tangent per primal, of its shape). For a function of one output: a pair of
// Tensors; otherwise a pair of vectors.
template <class F, class... P, class... T>
auto jvp(const F& f, const std::tuple<P...>& primals, const std::tuple<T...>& tangents) {
  static_assert(sizeof...(P) == sizeof...(T), "jvp needs one tangent per primal");
  constexpr size_t n = sizeof...(P);
  Transformed<detail::FirstArgs<F, n>, std::vector<Tensor>> fwd(
      detail::FirstArgs<F, n>{f}, detail::make_ad_state(detail::AdKind::Jvp, {}, static_cast<int>(n), {}));
  std::vector<Tensor> r = std::apply(
      [&](const auto&... p) { return std::apply([&](const auto&... t) { return fwd(p..., t...); }, tangents); },
      primals);
  using R = std::decay_t<std::invoke_result_t<const F&, const P&...>>;
  size_t k = r.size() / 2;
  if constexpr (std::is_same_v<R, Tensor>) {
    return std::make_pair(r[0], r[1]);
  } else {
    return std::make_pair(std::vector<Tensor>(r.begin(), r.begin() + k),
                          std::vector<Tensor>(r.begin() + k, r.end()));
  }
}

}  // namespace jit
