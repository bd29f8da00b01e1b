// tests/unit/test_vmap_fallback.cpp: the per-sample fallback for an op without a batching rule.
// Every op has a rule, so the test takes one away for its duration.
#include <doctest/doctest.h>

#include <jit/jit.h>

#include "ir/op_table.h"

namespace {

// Removes an op's batching rule while alive.
struct WithoutBatchRule {
  jit::ir::OpInfo& op;
  jit::ir::BatchFn saved;
  explicit WithoutBatchRule(jit::ir::OpId id)
      : op(const_cast<jit::ir::OpInfo&>(jit::ir::op_info(id))), saved(op.batch) {
    op.batch = nullptr;
  }
  ~WithoutBatchRule() { op.batch = saved; }
};

jit::Tensor f(const jit::Tensor& x, const jit::Tensor& w) { return jit::erf(x * w) + jit::sum(x); }

}  // namespace

TEST_CASE("vmap fallback: an op without a batching rule runs per sample, counted") {
  WithoutBatchRule no_rule(jit::ir::OpId::Erf);
  jit::Tensor w = jit::randn({4}, 1);
  for (auto backend : {jit::Backend::Compiled, jit::Backend::Interpreter}) {
    auto g = jit::vmap(f, {0, jit::none}, 0, {.backend = backend, .name = "f"});
    for (int64_t b : {3, 5, 0, 3}) {
      jit::Tensor xs = jit::randn({b, 4}, b);
      jit::Tensor ys = g(xs, w);
      REQUIRE(ys.shape() == jit::Shape{b, 4});
      for (int64_t i = 0; i < b; ++i)
        CHECK(jit::allclose(jit::select(ys, 0, i), f(jit::select(xs, 0, i), w), 1e-5, 1e-6));
    }
    // The batch size is part of the signature: 3, 5 and 0 compiled once each.
    CHECK(jit::cache_stats(g).compiles == 3);
    CHECK(jit::cache_stats(g).fallbacks == 3);
  }
}

TEST_CASE("vmap fallback: disabled, it is an error naming the op, and the function recovers") {
  jit::Tensor w = jit::randn({4}, 1), xs = jit::randn({3, 4}, 2);
  auto g = jit::vmap(f, {0, jit::none}, 0, {.name = "f", .per_sample_fallback = false});
  {
    WithoutBatchRule no_rule(jit::ir::OpId::Erf);
    CHECK_THROWS_WITH_AS(g(xs, w), doctest::Contains("op 'erf' has no batching rule"), jit::Error);
  }
  CHECK(jit::cache_stats(g).fallbacks == 0);
  CHECK(g(xs, w).shape() == jit::Shape{3, 4});
}
