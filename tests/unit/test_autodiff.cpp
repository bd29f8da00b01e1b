// tests/unit/test_autodiff.cpp: grad, vjp, jvp, jacrev, jacfwd and hessian: every
// differentiable op against central finite differences in f64 (reverse and forward mode), the
// seeds' examples, per-sample gradients of an MLP, and compositions with vmap.
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <functional>

#include "ir/op_table.h"

namespace {

using jit::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// f's output with every input element nudged by +-h, contracted with r: the directional
// derivative of sum(f * r) along each input element, by central differences.
std::vector<Tensor> numeric_grads(const Fn& f, const std::vector<Tensor>& xs, const Tensor& r) {
  const double h = 1e-6;
  std::vector<Tensor> out;
  for (size_t i = 0; i < xs.size(); ++i) {
    Tensor g = jit::zeros(xs[i].shape(), jit::DType::f64);
    for (int64_t j = 0; j < xs[i].numel(); ++j) {
      std::vector<Tensor> p = xs, m = xs;
      p[i] = xs[i].clone(), m[i] = xs[i].clone();
      static_cast<double*>(p[i].data())[j] += h;
      static_cast<double*>(m[i].data())[j] -= h;
      double d = jit::sum((f(p) - f(m)) * r).item() / (2 * h);
      static_cast<double*>(g.data())[j] = d;
    }
    out.push_back(g);
  }
  return out;
}

// Reverse mode (through jit::vjp, compiled) and forward mode (jit::jvp) against differences.
void gradcheck(const char* name, const Fn& f, std::vector<Tensor> xs, double tol = 1e-6) {
  INFO(name);
  for (Tensor& x : xs) x = x.to(jit::DType::f64);
  Tensor y = f(xs);
  Tensor r = jit::randn(y.shape(), 99, jit::DType::f64);
  std::vector<Tensor> expect = numeric_grads(f, xs, r);
  // Reverse: the pullback of r.
  for (size_t i = 0; i < xs.size(); ++i) {
    auto fi = [&, i](const Tensor& xi) {
      std::vector<Tensor> a = xs;
      a[i] = xi;
      return f(a);
    };
    auto [out, pullback] = jit::vjp(fi, xs[i]);
    CHECK(jit::allclose(out, y, 1e-9, 1e-12, true));
    Tensor g = pullback(r);
    bool ok = jit::allclose(g, expect[i], tol, tol);
    if (!ok) MESSAGE("reverse, input " << i << ":\n" << g << "\nexpected\n" << expect[i]);
    CHECK(ok);
    // Forward: along a random tangent t, jvp gives sum(dy * r) = <grad, t>.
    Tensor t = jit::randn(xs[i].shape(), 7 + i, jit::DType::f64);
    auto [y2, ty] = jit::jvp(fi, std::tuple{xs[i]}, std::tuple{t});
    double fwd = jit::sum(ty * r).item(), rev = jit::sum(expect[i] * t).item();
    CHECK(fwd == doctest::Approx(rev).epsilon(1e-5).scale(1));
  }
}

Tensor any(const jit::Shape& s, uint64_t seed) { return jit::randn(s, seed, jit::DType::f64); }

}  // namespace

TEST_CASE("autodiff: every differentiable unary op") {
  const std::pair<const char*, std::function<Tensor(const Tensor&)>> ops[] = {
      {"neg", [](const Tensor& x) { return -x; }},
      {"abs", [](const Tensor& x) { return jit::abs(x); }},
      {"exp", [](const Tensor& x) { return jit::exp(x); }},
      {"log", [](const Tensor& x) { return jit::log(jit::abs(x) + 0.5); }},
      {"log1p", [](const Tensor& x) { return jit::log1p(jit::abs(x)); }},
      {"expm1", [](const Tensor& x) { return jit::expm1(x); }},
      {"sqrt", [](const Tensor& x) { return jit::sqrt(jit::abs(x) + 0.5); }},
      {"rsqrt", [](const Tensor& x) { return jit::rsqrt(jit::abs(x) + 0.5); }},
      {"square", [](const Tensor& x) { return jit::square(x); }},
      {"reciprocal", [](const Tensor& x) { return jit::reciprocal(jit::abs(x) + 0.5); }},
      {"sin", [](const Tensor& x) { return jit::sin(x); }},
      {"cos", [](const Tensor& x) { return jit::cos(x); }},
      {"tan", [](const Tensor& x) { return jit::tan(x * 0.5); }},
      {"tanh", [](const Tensor& x) { return jit::tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return jit::sigmoid(x); }},
      {"relu", [](const Tensor& x) { return jit::relu(x); }},
      {"gelu", [](const Tensor& x) { return jit::gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return jit::gelu(x, true); }},
      {"erf", [](const Tensor& x) { return jit::erf(x); }},
  };
  for (const auto& [name, op] : ops)
    gradcheck(name, [op](const std::vector<Tensor>& a) { return op(a[0]); }, {any({3, 4}, 1)});
  // cast: the gradient passes through in the operand's dtype (differences would only see f32
  // rounding).
  Tensor x = any({4}, 2);
  Tensor g = jit::grad([](const Tensor& u) { return jit::sum(jit::cast(u, jit::DType::f32) * 3.0f); })(x);
  CHECK(g.dtype() == jit::DType::f64);
  CHECK(jit::allclose(g, jit::full({4}, 3.0, jit::DType::f64)));
}

TEST_CASE("autodiff: binary and ternary ops, with broadcasting") {
  const std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>> ops[] = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / (jit::abs(b) + 0.5); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return jit::pow(jit::abs(a) + 0.5, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return jit::maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return jit::minimum(a, b); }},
      {"where", [](const Tensor& a, const Tensor& b) { return jit::where(a > b, a * 2.0, b * b); }},
      {"clamp", [](const Tensor& a, const Tensor& b) { return jit::clamp(a, b - 0.5, b + 0.5); }},
      {"fma", [](const Tensor& a, const Tensor& b) { return jit::fma(a, b, a * 0.5 - b); }},
      {"scalar", [](const Tensor& a, const Tensor& b) { return 2.0 - a / 3.0 + jit::pow(b, 2); }},
  };
  for (const auto& [name, op] : ops) {
    auto f = [op](const std::vector<Tensor>& a) { return op(a[0], a[1]); };
    gradcheck(name, f, {any({3, 4}, 1), any({3, 4}, 2)});
    gradcheck(name, f, {any({2, 3, 4}, 3), any({4}, 4)});
    gradcheck(name, f, {any({3, 1}, 5), any({1, 4}, 6)});
  }
}

TEST_CASE("autodiff: reductions and normalisations") {
  const std::pair<const char*, std::function<Tensor(const Tensor&)>> ops[] = {
      {"sum", [](const Tensor& x) { return jit::sum(x, {1}); }},
      {"sum_all", [](const Tensor& x) { return jit::sum(x); }},
      {"mean", [](const Tensor& x) { return jit::mean(x, {0}, true); }},
      {"prod", [](const Tensor& x) { return jit::prod(x, {1}); }},
      {"max", [](const Tensor& x) { return jit::max(x, {1}); }},
      {"min", [](const Tensor& x) { return jit::min(x); }},
      {"logsumexp", [](const Tensor& x) { return jit::logsumexp(x, {1}); }},
      {"var", [](const Tensor& x) { return jit::var(x, {0, 1}); }},
      {"softmax", [](const Tensor& x) { return jit::softmax(x, 1); }},
      {"log_softmax", [](const Tensor& x) { return jit::log_softmax(x, 0); }},
      {"layer_norm", [](const Tensor& x) { return jit::layer_norm(x, {4}); }},
  };
  for (const auto& [name, op] : ops)
    gradcheck(name, [op](const std::vector<Tensor>& a) { return op(a[0]); }, {any({3, 4}, 11)});
  // prod with a zero: the gradient is the product of the others, not a division by zero.
  Tensor z = jit::tensor({2.0, 0.0, 3.0});
  CHECK(jit::allclose(jit::grad([](const Tensor& x) { return jit::prod(x); })(z), jit::tensor({0.0, 6.0, 0.0})));
}

TEST_CASE("autodiff: contractions") {
  using F2 = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::tuple<const char*, F2, jit::Shape, jit::Shape> ops[] = {
      {"dot", [](const Tensor& a, const Tensor& b) { return jit::dot(a, b); }, {5}, {5}},
      {"mv", [](const Tensor& a, const Tensor& b) { return jit::mv(a, b); }, {3, 5}, {5}},
      {"mm", [](const Tensor& a, const Tensor& b) { return jit::mm(a, b); }, {3, 5}, {5, 2}},
      {"outer", [](const Tensor& a, const Tensor& b) { return jit::outer(a, b); }, {3}, {4}},
      {"matmul_batched", [](const Tensor& a, const Tensor& b) { return jit::matmul(a, b); }, {2, 1, 3, 4}, {3, 4, 2}},
      {"matmul_vec", [](const Tensor& a, const Tensor& b) { return jit::matmul(a, b); }, {4}, {2, 4, 3}},
  };
  for (const auto& [name, op, sa, sb] : ops)
    gradcheck(name, [op](const std::vector<Tensor>& a) { return op(a[0], a[1]); }, {any(sa, 21), any(sb, 22)});
}

TEST_CASE("autodiff: layout ops") {
  const std::pair<const char*, std::function<Tensor(const Tensor&)>> ops[] = {
      {"reshape", [](const Tensor& x) { return jit::reshape(x, {4, 3}) * jit::arange(0.0, 12.0, 1.0, jit::DType::f64).reshape({4, 3}); }},
      {"transpose", [](const Tensor& x) { return jit::transpose(x, 0, 1); }},
      {"permute", [](const Tensor& x) { return jit::permute(jit::unsqueeze(x, 1), {2, 0, 1}); }},
      {"expand", [](const Tensor& x) { return jit::expand(jit::unsqueeze(x, 0), {2, 3, 4}); }},
      {"squeeze", [](const Tensor& x) { return jit::squeeze(jit::unsqueeze(x, 2), 2); }},
      {"flatten", [](const Tensor& x) { return jit::flatten(x); }},
      {"slice", [](const Tensor& x) { return jit::slice(x, 1, 1, std::nullopt, 2); }},
      {"narrow", [](const Tensor& x) { return jit::narrow(x, 0, 1, 2); }},
      {"select", [](const Tensor& x) { return jit::select(x, 1, -1); }},
      {"index_select", [](const Tensor& x) { return jit::index_select(x, 1, jit::tensor({3, 0, 3}).to(jit::DType::i64)); }},
      {"gather", [](const Tensor& x) { return jit::gather(x, 1, jit::tensor({{0, 0}, {3, 1}, {2, 2}}).to(jit::DType::i64)); }},
      {"concat", [](const Tensor& x) { return jit::concat({x, jit::exp(x)}, 1); }},
      {"stack", [](const Tensor& x) { return jit::stack({x, x * x}, 0); }},
  };
  for (const auto& [name, op] : ops)
    gradcheck(name, [op](const std::vector<Tensor>& a) { return op(a[0]); }, {any({3, 4}, 31)});
}

TEST_CASE("autodiff: non-differentiable ops give zero gradients, as in torch") {
  auto f = [](const Tensor& x) {
    return jit::sum(jit::floor(x) + jit::sign(x) + jit::cast(jit::argmax(x), jit::DType::f64) +
                    jit::cast(x > 0.0, jit::DType::f64));
  };
  CHECK(jit::allclose(jit::grad(f)(any({5}, 1)), jit::zeros({5}, jit::DType::f64)));
}

TEST_CASE("autodiff: every differentiable op in the table has VJP and JVP rules") {
  for (const jit::ir::OpInfo& op : jit::ir::all_ops()) {
    if (!op.differentiable || op.arity == 0) continue;
    INFO(op.name);
    CHECK(bool(op.vjp));
    CHECK(bool(op.jvp));
  }
}

TEST_CASE("autodiff: the seeds' examples") {
  // The Jacobian of x ** 2 by vmap of vjp over basis vectors equals the row-by-row result.
  Tensor x = any({5}, 1);
  auto f = [](const Tensor& v) { return v * v; };
  auto [y, pullback] = jit::vjp(f, x);
  Tensor basis = jit::eye(5, jit::DType::f64);
  std::vector<Tensor> rows;
  for (const Tensor& v : jit::unbind(basis)) rows.push_back(pullback(v));
  Tensor jac = jit::vmap(pullback)(basis);
  CHECK(jit::allclose(jac, jit::stack(rows)));
  CHECK(jit::allclose(jac, basis * (2.0 * x)));
  // Per-sample gradients of dot(sample, weight) by vmap(grad) equal a per-sample loop.
  Tensor weight = any({5}, 2), samples = any({64, 5}, 3);
  auto model = [](const Tensor& sample, const Tensor& w) { return jit::dot(sample, w); };
  Tensor psg = jit::vmap(jit::grad(model, 1), {0, jit::none})(samples, weight);
  std::vector<Tensor> loop;
  for (const Tensor& s : jit::unbind(samples)) loop.push_back(jit::grad(model, 1)(s, weight));
  CHECK(jit::allclose(psg, jit::stack(loop)));
}

TEST_CASE("autodiff: MLP with cross-entropy, per-sample gradients sum to the batch gradient") {
  Tensor w1 = any({8, 6}, 1) * 0.5, b1 = any({8}, 2), w2 = any({3, 8}, 3) * 0.5, b2 = any({3}, 4);
  Tensor xs = any({10, 6}, 5);
  Tensor ts = jit::index_select(jit::eye(3, jit::DType::f64), 0,
                                jit::tensor({0, 2, 1, 1, 0, 2, 2, 0, 1, 0}).to(jit::DType::i64));
  auto loss = [](const Tensor& W1, const Tensor& B1, const Tensor& W2, const Tensor& B2, const Tensor& x,
                 const Tensor& t) {
    Tensor logits = jit::mv(W2, jit::tanh(jit::mv(W1, x) + B1)) + B2;
    return -jit::sum(t * jit::log_softmax(logits, 0));
  };
  auto batch_loss = [&](const Tensor& W1, const Tensor& B1, const Tensor& W2, const Tensor& B2) {
    return jit::sum(jit::vmap(loss, {jit::none, jit::none, jit::none, jit::none, 0, 0})(W1, B1, W2, B2, xs, ts));
  };
  for (int p = 0; p < 4; ++p) {
    INFO("parameter " << p);
    Tensor per_sample = jit::vmap(jit::grad(loss, p), {jit::none, jit::none, jit::none, jit::none, 0, 0})(
        w1, b1, w2, b2, xs, ts);
    Tensor total = jit::grad(batch_loss, p)(w1, b1, w2, b2);
    CHECK(per_sample.shape()[0] == 10);
    CHECK(jit::allclose(jit::sum(per_sample, {0}), total, 1e-9, 1e-12));
  }
}

TEST_CASE("autodiff: jacrev equals jacfwd; the hessian of x^T A x is A + A^T") {
  Tensor a = any({4, 3}, 1), x = any({3}, 2), m = any({5, 5}, 3), v = any({5}, 4);
  auto f = [&](const Tensor& u) { return jit::tanh(jit::mv(a, u)); };
  Tensor jr = jit::jacrev(f)(x), jf = jit::jacfwd(f)(x);
  CHECK(jr.shape() == jit::Shape{4, 3});
  CHECK(jit::allclose(jr, jf, 1e-10, 1e-12));
  auto quad = [&](const Tensor& u) { return jit::dot(u, jit::mv(m, u)); };
  CHECK(jit::allclose(jit::hessian(quad)(v), m + m.transpose(0, 1), 1e-10, 1e-12));
  // jacrev of jacrev is the hessian too, and vmap of jacrev is a batch of Jacobians.
  CHECK(jit::allclose(jit::jacrev(jit::jacrev(quad))(v), m + m.transpose(0, 1), 1e-10, 1e-12));
  Tensor xs = any({6, 3}, 5);
  Tensor batch = jit::vmap(jit::jacrev(f))(xs);
  CHECK(batch.shape() == jit::Shape{6, 4, 3});
  CHECK(jit::allclose(jit::select(batch, 0, 4), jit::jacrev(f)(jit::select(xs, 0, 4)), 1e-12, 1e-12));
}

TEST_CASE("autodiff: compiled and interpreted gradients agree; f32 works") {
  auto f = [](const Tensor& x, const Tensor& w) { return jit::sum(jit::softmax(x * w, 0) * jit::exp(w)); };
  Tensor x = jit::randn({7}, 1), w = jit::randn({7}, 2);
  Tensor gc = jit::grad(f, 1)(x, w);
  Tensor gi = jit::grad(f, 1, {.backend = jit::Backend::Interpreter})(x, w);
  CHECK(gc.dtype() == jit::DType::f32);
  CHECK(jit::allclose(gc, gi, 1e-5, 1e-6));
}

TEST_CASE("autodiff: errors name the transform and the problem") {
  auto vec = [](const Tensor& x) { return x * 2.0; };
  Tensor x = any({3}, 1);
  CHECK_THROWS_WITH_AS(jit::grad(vec, 0, {.name = "vec"})(x), doctest::Contains("must return a scalar"), jit::Error);
  auto two = [](const Tensor& x, double s) { return jit::sum(x) * s; };
  CHECK_THROWS_WITH_AS(jit::grad(two, 1)(x, 2.0), doctest::Contains("argument 1 is not a tensor"), jit::Error);
  auto ints = [](const Tensor& i) { return jit::sum(jit::cast(i, jit::DType::f64)); };
  CHECK_THROWS_WITH_AS(jit::grad(ints)(jit::tensor({1, 2})), doctest::Contains("only floating-point"), jit::Error);
  // The same transformed function still works after an error.
  auto g = jit::grad([](const Tensor& u) { return jit::sum(u * u); });
  CHECK_THROWS_AS(g(jit::tensor({1, 2})), jit::Error);
  CHECK(jit::allclose(g(x), 2.0 * x));
}
