// tests/unit/test_simplify.cpp: the simplify pass: CSE, DCE, constant folding and identities
// that are exact in IEEE arithmetic (and none that are not).
#include <doctest/doctest.h>

#include <functional>

#include "interp/interpreter.h"
#include "ir/ir.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "transforms/simplify.h"

using namespace jit;
using namespace jit::ir;

namespace {
int count(const Function& f, OpId op) {
  int n = 0;
  for (const Node& x : f.nodes) n += x.op == op;
  return n;
}
}  // namespace

TEST_CASE("simplify: CSE merges identical nodes and DCE drops dead ones") {
  Builder b("f", /*cse=*/false);
  ValueId x = b.param({DType::f32, {4}});
  ValueId e1 = b.op(OpId::Exp, {x}), e2 = b.op(OpId::Exp, {x});
  b.op(OpId::Tanh, {x});  // dead
  Function f = b.finish({b.op(OpId::Add, {e1, e2})});
  Function g = simplify(f);
  verify(g);
  CHECK(count(f, OpId::Exp) == 2);
  CHECK(count(g, OpId::Exp) == 1);
  CHECK(count(g, OpId::Tanh) == 0);
  CHECK(g.params.size() == 1);
}

TEST_CASE("simplify: scalar constants fold with the reference kernels") {
  Builder b("f");
  ValueId x = b.param({DType::f32, {3}});
  ValueId c = b.op(OpId::Mul, {b.constant(2.0, DType::f32), b.constant(3.5, DType::f32)});
  ValueId d = b.op(OpId::Exp, {b.constant(0.0, DType::f32)});
  Function f = b.finish({b.op(OpId::Add, {b.op(OpId::Mul, {x, c}), d})});
  Function g = simplify(f);
  verify(g);
  CHECK(count(g, OpId::Exp) == 0);
  CHECK(count(g, OpId::Mul) == 1);
  std::string text = print(g);
  CHECK(text.find("value=7.0") != std::string::npos);
  Tensor in = jit::tensor({1.f, 2.f, 3.f});
  CHECK(interpret(g, {&in, 1})[0].at({2}) == doctest::Approx(22.0));
}

TEST_CASE("simplify: exact identities only") {
  Builder b("f");
  ValueId x = b.param({DType::f32, {3}});
  ValueId one = b.constant(1.0, DType::f32), zero = b.constant(0.0, DType::f32),
          neg_zero = b.constant(-0.0, DType::f32);
  SUBCASE("x * 1, x / 1, x - 0, x + -0.0 and neg(neg(x)) are x") {
    for (ValueId v : {b.op(OpId::Mul, {x, one}), b.op(OpId::Div, {x, one}), b.op(OpId::Sub, {x, zero}),
                      b.op(OpId::Add, {neg_zero, x}), b.op(OpId::Neg, {b.op(OpId::Neg, {x})})}) {
      Function g = simplify(b.finish({v}));
      CHECK(g.nodes.empty());
      CHECK(g.outputs[0] == 0);
    }
  }
  SUBCASE("x + 0.0 and x * 0 stay: -0.0 + 0.0 is +0.0 and NaN * 0 is NaN") {
    Function g = simplify(b.finish({b.op(OpId::Add, {x, zero}), b.op(OpId::Mul, {x, zero})}));
    CHECK(count(g, OpId::Add) == 1);
    CHECK(count(g, OpId::Mul) == 1);
  }
  SUBCASE("a broadcasting identity keeps the broadcast") {
    ValueId wide = b.op(OpId::Mul, {x, b.op(OpId::Expand, {one}, {{"shape", Shape{2, 3}}})});
    Function g = simplify(b.finish({wide}));
    CHECK(g.type(g.outputs[0]).shape == Shape{2, 3});
  }
}

TEST_CASE("simplify: layout ops compose and no-ops vanish") {
  Builder b("f");
  ValueId x = b.param({DType::f32, {2, 3, 4}});
  ValueId p = b.op(OpId::Permute, {b.op(OpId::Permute, {x}, {{"perm", Shape{1, 2, 0}}})}, {{"perm", Shape{2, 0, 1}}});
  ValueId r = b.op(OpId::Reshape, {b.op(OpId::Reshape, {x}, {{"shape", Shape{6, 4}}})}, {{"shape", Shape{24}}});
  Function g = simplify(b.finish({p, r}));
  verify(g);
  CHECK(g.outputs[0] == 0);  // the two permutes cancel
  CHECK(count(g, OpId::Reshape) == 1);
  Tensor in = jit::randn({2, 3, 4}, 1);
  std::vector<Tensor> out = interpret(g, {&in, 1});
  CHECK(jit::allclose(out[1], in.reshape({24})));
}

namespace {
// diag(d) as the Jacobian basis writes it: reshape(pad(d, step n+1, size n*n), [n, n]).
ValueId diag(Builder& b, ValueId d, int64_t n) {
  ValueId p = b.op(OpId::Pad, {d}, {{"dim", int64_t(0)}, {"start", int64_t(0)}, {"step", n + 1}, {"size", n * n}});
  return b.op(OpId::Reshape, {p}, {{"shape", Shape{n, n}}});
}
}  // namespace

TEST_CASE("simplify: products and contractions with a diagonal matrix") {
  const int64_t n = 5;
  // Each case: the other operand's shape, and the expression over (diag, other).
  struct Case {
    const char* name;
    Shape other;
    std::function<ValueId(Builder&, ValueId, ValueId)> expr;
    int contractions_left;
  };
  auto dot = [](Builder& b, ValueId l, ValueId r, int64_t cl, int64_t cr) {
    return b.op(OpId::DotGeneral, {l, r},
                {{"batch_lhs", Shape{}}, {"batch_rhs", Shape{}}, {"contract_lhs", Shape{cl}}, {"contract_rhs", Shape{cr}}});
  };
  std::vector<Case> cases = {
      {"diag * scalar", {}, [](Builder& b, ValueId d, ValueId y) { return b.op(OpId::Mul, {d, y}); }, 0},
      {"diag * row", {n}, [](Builder& b, ValueId d, ValueId y) { return b.op(OpId::Mul, {d, y}); }, 0},
      {"column * diag", {n, 1}, [](Builder& b, ValueId d, ValueId y) { return b.op(OpId::Mul, {y, d}); }, 0},
      {"diag * [1,n]", {1, n}, [](Builder& b, ValueId d, ValueId y) { return b.op(OpId::Mul, {d, y}); }, 0},
      {"diag * matrix", {n, n}, [](Builder& b, ValueId d, ValueId y) { return b.op(OpId::Mul, {d, y}); }, 0},
      {"diag @ m (axis 0)", {n, 3}, [&](Builder& b, ValueId d, ValueId m) { return dot(b, d, m, 1, 0); }, 0},
      {"diag^T @ m", {n, 3}, [&](Builder& b, ValueId d, ValueId m) { return dot(b, d, m, 0, 0); }, 0},
      {"diag with m's axis 1 of 3", {2, n, 3}, [&](Builder& b, ValueId d, ValueId m) { return dot(b, d, m, 1, 1); }, 0},
      {"m @ diag", {3, n}, [&](Builder& b, ValueId d, ValueId m) { return dot(b, m, d, 1, 0); }, 0},
      {"m's axis 0 with diag", {n, 2, 3}, [&](Builder& b, ValueId d, ValueId m) { return dot(b, m, d, 0, 1); }, 0},
      {"(diag * row) @ m: the jacrev of tanh(A v)", {n, 4},
       [&](Builder& b, ValueId d, ValueId m) {
         ValueId row = b.op(OpId::Tanh, {b.op(OpId::Sum, {m}, {{"dims", Shape{1}}, {"keepdim", int64_t(0)}})});
         return dot(b, b.op(OpId::Mul, {d, row}), m, 1, 0);
       },
       0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Builder b("f");
    ValueId v = b.param({DType::f32, {n}});
    ValueId y = b.param({DType::f32, c.other});
    Function f = b.finish({c.expr(b, diag(b, v, n), y)});
    Function g = simplify(f);
    verify(g);
    CHECK(count(g, OpId::DotGeneral) == c.contractions_left);
    CHECK(g.type(g.outputs[0]) == f.type(f.outputs[0]));
    std::vector<Tensor> in = {jit::randn({n}, 3), jit::randn(c.other, 4)};
    CHECK(jit::allclose(interpret(g, in)[0], interpret(f, in)[0], 1e-6, 1e-6));
  }
}

TEST_CASE("simplify: a pad that is not a diagonal stays a contraction") {
  Builder b("f");
  ValueId v = b.param({DType::f32, {4}});
  ValueId m = b.param({DType::f32, {4, 3}});
  // step n, not n + 1: the ones land in column 0
  ValueId p = b.op(OpId::Pad, {v}, {{"dim", int64_t(0)}, {"start", int64_t(0)}, {"step", int64_t(4)}, {"size", int64_t(16)}});
  ValueId e = b.op(OpId::Reshape, {p}, {{"shape", Shape{4, 4}}});
  ValueId r = b.op(OpId::DotGeneral, {e, m},
                   {{"batch_lhs", Shape{}}, {"batch_rhs", Shape{}}, {"contract_lhs", Shape{1}}, {"contract_rhs", Shape{0}}});
  Function g = simplify(b.finish({r}));
  CHECK(count(g, OpId::DotGeneral) == 1);
}
