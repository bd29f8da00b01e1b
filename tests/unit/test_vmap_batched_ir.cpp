// tests/unit/test_vmap_batched_ir.cpp: what the vmap pass makes, read from the batched IR:
// values that do not depend on a mapped input stay unbatched (no `?` dim: computed once per call,
// hoisted out of the batch), a per-sample matrix-vector product against an unmapped matrix
// becomes one matrix-matrix dot_general, and random ops follow the randomness mode.
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <algorithm>

#include "ir/text.h"
#include "runtime/pipeline.h"
#include "trace/trace.h"
#include "transforms/vmap.h"

namespace {

using jit::DType;
using jit::Shape;
using jit::Tensor;
namespace ir = jit::ir;

// f traced on symbolic tensors of the given types (captured tensors become trailing params).
template <class F>
ir::Function trace(const char* name, const std::vector<ir::Type>& params, F f) {
  auto tr = std::make_shared<jit::detail::Trace>(name);
  std::vector<Tensor> sym;
  for (const ir::Type& t : params) sym.push_back(tr->input(t));
  std::vector<Tensor> outs;
  {
    jit::detail::TraceScope scope(tr);
    outs = {f(sym)};
  }
  return tr->finish(outs);
}

ir::VmapSpec spec(std::vector<std::optional<int64_t>> in, size_t outputs = 1) {
  ir::VmapSpec s;
  s.in_dims = std::move(in);
  s.out_dims.assign(outputs, 0);
  s.context = "vmap(test)";
  return s;
}

// The nodes of f with op `op` (pointers into f: keep f alive).
std::vector<const ir::Node*> nodes_of(const ir::Function& f, ir::OpId op) {
  std::vector<const ir::Node*> r;
  for (const ir::Node& n : f.nodes)
    if (n.op == op) r.push_back(&n);
  return r;
}

// The final IR without contraction (tests of vmap and simplify: a * b + c stays two ops).
ir::Function simplified(const ir::Function& traced, const ir::VmapSpec& s) {
  jit::rt::PipelineOptions o;
  o.interpreter = true;
  o.fp_contract = false;
  return jit::rt::compile(traced, s, o).batched;
}

}  // namespace

TEST_CASE("vmap IR: values that do not depend on a mapped input are not batched (hoisted)") {
  Tensor w = jit::randn({4}, 1);
  // exp(w), square(w) and their sum depend only on the captured w.
  ir::Function f = trace("hoist", {{DType::f32, {4}}}, [&](std::span<const Tensor> x) {
    return x[0] * jit::exp(w) + jit::sum(jit::square(w));
  });
  REQUIRE(f.params.size() == 2);  // x, then w captured
  CHECK(f.params[1].captured);
  for (const ir::Function& g : {ir::vmap(f, spec({0, std::nullopt})), simplified(f, spec({0, std::nullopt}))}) {
    INFO(ir::print(g));
    CHECK(g.params[0].type.shape == Shape{ir::kDyn, 4});
    CHECK(g.params[1].type.shape == Shape{4});
    for (ir::OpId op : {ir::OpId::Exp, ir::OpId::Square, ir::OpId::Sum}) {
      auto ns = nodes_of(g, op);
      REQUIRE(ns.size() == 1);
      CHECK_MESSAGE(!ns[0]->type.has_dyn(), ir::print_node(g, *ns[0]));
    }
    // Only what depends on x is batched: the product and the final add.
    for (ir::OpId op : {ir::OpId::Mul, ir::OpId::Add}) {
      auto ns = nodes_of(g, op);
      REQUIRE(ns.size() == 1);
      CHECK_MESSAGE(ns[0]->type.shape.front() == ir::kDyn, ir::print_node(g, *ns[0]));
    }
  }
}

TEST_CASE("vmap IR: in nested vmap, a value of the outer sample is batched only by the outer") {
  // pairs(a, b) = exp(a) * b for every (a_i, b_j): exp(a) is computed once per a_i, not per pair.
  auto f = [](const Tensor& a, const Tensor& b) { return jit::exp(a) * b; };
  auto inner = jit::vmap(f, {jit::none, 0});
  ir::Function t = trace("pairs", {{DType::f32, {4}}, {DType::f32, {6, 4}}},
                         [&](std::span<const Tensor> x) { return inner(x[0], x[1]); });
  for (const ir::Function& g : {ir::vmap(t, spec({0, std::nullopt})), simplified(t, spec({0, std::nullopt}))}) {
    INFO(ir::print(g));
    auto e = nodes_of(g, ir::OpId::Exp);
    REQUIRE(e.size() == 1);
    CHECK(e[0]->type.shape == Shape{ir::kDyn, 4});
    auto m = nodes_of(g, ir::OpId::Mul);
    REQUIRE(m.size() == 1);
    CHECK(m[0]->type.shape == Shape{ir::kDyn, 6, 4});
  }
}

TEST_CASE("vmap IR: a matrix-vector product against an unmapped matrix is one matrix-matrix product") {
  Tensor weights = jit::randn({3, 4}, 1);
  ir::Function f = trace("linear", {{DType::f32, {4}}}, [&](std::span<const Tensor> x) {
    return jit::relu(jit::mv(weights, x[0]));
  });
  for (const ir::Function& g : {ir::vmap(f, spec({0, std::nullopt})), simplified(f, spec({0, std::nullopt}))}) {
    INFO(ir::print(g));
    auto dots = nodes_of(g, ir::OpId::DotGeneral);
    REQUIRE(dots.size() == 1);
    const ir::Node& d = *dots[0];
    // [3, 4] (the weights, unbatched) contracted with [?, 4]: no batch dims, both operands
    // matrices: one matrix-matrix product for the whole batch.
    CHECK(g.type(d.operands[0]).shape == Shape{3, 4});
    CHECK(g.type(d.operands[1]).shape == Shape{ir::kDyn, 4});
    CHECK(d.attrs.get_ints("batch_lhs").empty());
    CHECK(d.attrs.get_ints("batch_rhs").empty());
    CHECK(d.attrs.get_ints("contract_lhs") == Shape{1});
    CHECK(d.attrs.get_ints("contract_rhs") == Shape{1});
    CHECK(d.type.shape == Shape{3, ir::kDyn});
    CHECK(g.type(g.outputs[0]).shape == Shape{ir::kDyn, 3});
    // No per-sample pieces.
    CHECK(nodes_of(g, ir::OpId::Slice).empty());
    CHECK(nodes_of(g, ir::OpId::Concat).empty());
  }
  // Both operands mapped: the batch dims pair up as a dot_general batch dim.
  ir::Function mm = trace("mm", {{DType::f32, {2, 3}}, {DType::f32, {3, 4}}},
                          [&](std::span<const Tensor> x) { return jit::mm(x[0], x[1]); });
  ir::Function g = ir::vmap(mm, spec({0, 0}));
  INFO(ir::print(g));
  auto dots = nodes_of(g, ir::OpId::DotGeneral);
  REQUIRE(dots.size() == 1);
  CHECK(dots[0]->attrs.get_ints("batch_lhs") == Shape{0});
  CHECK(dots[0]->attrs.get_ints("batch_rhs") == Shape{0});
  CHECK(dots[0]->type.shape == Shape{ir::kDyn, 2, 4});
}

TEST_CASE("vmap IR: random ops are batched under Different, shared under Same, refused under Error") {
  ir::Function f = trace("noise", {{DType::f32, {3}}}, [&](std::span<const Tensor> x) {
    return x[0] + jit::randn({3});
  });
  ir::VmapSpec s = spec({0});
  s.randomness = ir::RandomMode::Different;
  ir::Function different = ir::vmap(f, s);
  auto r = nodes_of(different, ir::OpId::Randn);
  REQUIRE(r.size() == 1);
  CHECK(r[0]->type.shape == Shape{ir::kDyn, 3});
  s.randomness = ir::RandomMode::Same;
  ir::Function same = ir::vmap(f, s);
  r = nodes_of(same, ir::OpId::Randn);
  REQUIRE(r.size() == 1);
  CHECK(r[0]->type.shape == Shape{3});
  s.randomness = ir::RandomMode::Error;
  CHECK_THROWS_WITH_AS(ir::vmap(f, s), doctest::Contains("random op 'randn'"), jit::Error);
}

TEST_CASE("vmap IR: the batched function of every seed example verifies and prints back") {
  Tensor weights = jit::randn({5}, 1);
  ir::Function model = trace("model", {{DType::f32, {5}}}, [&](std::span<const Tensor> x) {
    return jit::relu(jit::dot(x[0], weights));
  });
  ir::Function g = simplified(model, spec({0, std::nullopt}));
  CHECK(ir::parse_function(ir::print(g)) == g);
  CHECK(ir::print(g).find("f32[?]") != std::string::npos);
}
