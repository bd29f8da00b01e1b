// tests/unit/test_backend.cpp: the LLVM backend against the reference interpreter: every op
// family and fused combinations, batch sizes around the vector width, strided and negative
// in_dims, nested vmap, chunking, NaN and Inf, the per-signature cache and concurrent callers.
// (The two tiers and the life of compiled code: test_tiers.cpp.)
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

#include "backend_test_util.h"

namespace {

using namespace backend_test;
using Fn1 = std::function<Tensor(const Tensor&)>;
using Fn2 = std::function<Tensor(const Tensor&, const Tensor&)>;

const int64_t kBatches[] = {0, 1, 2, 3, 15, 16, 17, 1000};

}  // namespace

TEST_CASE("backend: unary and binary elementwise ops, all batch sizes") {
  const std::pair<const char*, Fn1> unary[] = {
      {"neg", [](const Tensor& x) { return -x; }},
      {"abs", [](const Tensor& x) { return jit::abs(x); }},
      {"sign", [](const Tensor& x) { return jit::sign(x); }},
      {"exp", [](const Tensor& x) { return jit::exp(x); }},
      {"log", [](const Tensor& x) { return jit::log(jit::abs(x)); }},
      {"log1p", [](const Tensor& x) { return jit::log1p(jit::abs(x)); }},
      {"expm1", [](const Tensor& x) { return jit::expm1(x); }},
      {"sqrt", [](const Tensor& x) { return jit::sqrt(jit::abs(x)); }},
      {"rsqrt", [](const Tensor& x) { return jit::rsqrt(jit::abs(x) + 0.1); }},
      {"square", [](const Tensor& x) { return jit::square(x); }},
      {"reciprocal", [](const Tensor& x) { return jit::reciprocal(x); }},
      {"sin", [](const Tensor& x) { return jit::sin(x * 10.0); }},
      {"cos", [](const Tensor& x) { return jit::cos(x * 10.0); }},
      {"tan", [](const Tensor& x) { return jit::tan(x); }},
      {"tanh", [](const Tensor& x) { return jit::tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return jit::sigmoid(x * 5.0); }},
      {"relu", [](const Tensor& x) { return jit::relu(x); }},
      {"gelu", [](const Tensor& x) { return jit::gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return jit::gelu(x, true); }},
      {"erf", [](const Tensor& x) { return jit::erf(x); }},
      {"floor", [](const Tensor& x) { return jit::floor(x * 3.0); }},
      {"ceil", [](const Tensor& x) { return jit::ceil(x * 3.0); }},
      {"round", [](const Tensor& x) { return jit::round(x * 3.0); }},
      {"not", [](const Tensor& x) { return jit::logical_not(x > 0.0); }},
      {"isnan", [](const Tensor& x) { return jit::isnan(jit::log(x)); }},
      {"isinf", [](const Tensor& x) { return jit::isinf(jit::reciprocal(jit::round(x))); }},
      {"cast_i32", [](const Tensor& x) { return jit::cast(x * 100.0, jit::DType::i32); }},
      {"cast_f64", [](const Tensor& x) { return jit::cast(x, jit::DType::f64); }},
      {"int_ops", [](const Tensor& x) {
         Tensor i = jit::cast(x * 10.0, jit::DType::i64);
         return jit::pow(i, 3) + jit::abs(i) * 2 - jit::maximum(i, jit::neg(i));
       }},
  };
  for (int64_t b : kBatches)
    for (const auto& [name, f] : unary) agree(name, f, 0, batch_of({19}, b, 7));
  const std::pair<const char*, Fn2> binary[] = {
      {"add", [](const Tensor& x, const Tensor& y) { return x + y; }},
      {"sub", [](const Tensor& x, const Tensor& y) { return x - y; }},
      {"mul", [](const Tensor& x, const Tensor& y) { return x * y; }},
      {"div", [](const Tensor& x, const Tensor& y) { return x / y; }},
      {"pow", [](const Tensor& x, const Tensor& y) { return jit::pow(jit::abs(x), y); }},
      {"maximum", [](const Tensor& x, const Tensor& y) { return jit::maximum(x, y); }},
      {"minimum", [](const Tensor& x, const Tensor& y) { return jit::minimum(x, y); }},
      {"cmp", [](const Tensor& x, const Tensor& y) {
         return jit::where(jit::logical_or(jit::eq(x, y), jit::lt(x, y)), x, y) + jit::cast(jit::ge(x, y), jit::DType::f32);
       }},
      {"clamp", [](const Tensor& x, const Tensor& y) { return jit::clamp(x, jit::minimum(y, 0.0), jit::maximum(y, 0.0)); }},
  };
  for (int64_t b : {int64_t(0), int64_t(3), int64_t(17), int64_t(1000)})
    for (const auto& [name, f] : binary) agree(name, f, 0, batch_of({5, 7}, b, 1), batch_of({7}, b, 2));
}

TEST_CASE("backend: reductions, contractions and layout ops over random per-sample shapes") {
  std::mt19937 rng(42);
  auto dim = [&] { return std::vector<int64_t>{1, 2, 3, 5, 8, 17, 33}[rng() % 7]; };
  for (int trial = 0; trial < 6; ++trial) {
    int64_t m = dim(), n = dim(), k = dim();
    int64_t b = kBatches[trial + 2];
    Tensor x = batch_of({m, n}, b, 10 + trial), y = batch_of({n, k}, b, 20 + trial), v = batch_of({n}, b, 30 + trial);
    Tensor w = jit::randn({n, k}, 40 + trial);
    const std::pair<const char*, Fn1> ops[] = {
        {"sum", [](const Tensor& t) { return jit::sum(t, {1}); }},
        {"sum_all", [](const Tensor& t) { return jit::sum(t); }},
        {"mean_keep", [](const Tensor& t) { return jit::mean(t, {0}, true); }},
        {"prod", [](const Tensor& t) { return jit::prod(t * 0.1 + 1.0, {0}); }},
        {"max", [](const Tensor& t) { return jit::max(t, {-1}); }},
        {"min", [](const Tensor& t) { return jit::min(t, {0, 1}); }},
        {"argmax", [](const Tensor& t) { return jit::argmax(t, 1); }},
        {"argmin", [](const Tensor& t) { return jit::argmin(t); }},
        {"logsumexp", [](const Tensor& t) { return jit::logsumexp(t, {1}); }},
        {"var", [](const Tensor& t) { return jit::var(t, {0}); }},
        {"softmax", [](const Tensor& t) { return jit::softmax(t, -1); }},
        {"log_softmax", [](const Tensor& t) { return jit::log_softmax(t, 0); }},
        {"layer_norm", [](const Tensor& t) { return jit::layer_norm(t, {t.shape().back()}); }},
        {"transpose", [](const Tensor& t) { return jit::transpose(t, 0, 1) * 2.0; }},
        {"reshape", [](const Tensor& t) { return jit::reshape(t, {-1}) + 1.0; }},
        {"flatten_t", [](const Tensor& t) { return jit::flatten(jit::transpose(t, 0, 1)); }},
        {"expand", [](const Tensor& t) { return jit::expand(jit::unsqueeze(t, 0), {3, t.size(0), t.size(1)}); }},
        {"slice", [](const Tensor& t) { return jit::slice(t, 1, 1, std::nullopt, 2); }},
        {"concat", [](const Tensor& t) { return jit::concat({t, t * 2.0, jit::exp(t)}, 1); }},
        {"stack", [](const Tensor& t) { return jit::stack({t, -t}, 2); }},
        {"index_select", [](const Tensor& t) { return jit::index_select(t, 1, jit::tensor({0, 0}).to(jit::DType::i64)); }},
        {"gather", [](const Tensor& t) { return jit::gather(t, 0, jit::zeros(t.shape(), jit::DType::i64)); }},
    };
    for (const auto& [name, f] : ops) agree(name, f, 0, x);
    agree("mm", [](const Tensor& p, const Tensor& q) { return jit::mm(p, q); }, 0, x, y);
    agree("mv", [](const Tensor& p, const Tensor& q) { return jit::mv(p, q); }, 0, x, v);
    agree("matmul_w", [w](const Tensor& p) { return jit::matmul(p, w); }, 0, x);
    agree("dot_self", [](const Tensor& p) { return jit::dot(p, p); }, 0, v);
    agree("outer", [](const Tensor& p, const Tensor& q) { return jit::outer(p, q); }, 0, v, v);
    agree("mv_unbatched", [w](const Tensor& p) { return jit::mv(jit::transpose(w, 0, 1), p); }, 0, v);
  }
}

TEST_CASE("backend: fused models") {
  Tensor w1 = jit::randn({32, 16}, 1) * 0.3, b1 = jit::randn({32}, 2), w2 = jit::randn({10, 32}, 3) * 0.3,
         b2 = jit::randn({10}, 4);
  auto mlp = [&](const Tensor& x) { return jit::softmax(jit::mv(w2, jit::tanh(jit::mv(w1, x) + b1)) + b2, 0); };
  auto chain = [](const Tensor& x) { return jit::tanh(x * 1.5 + 0.5) * jit::sigmoid(x) - jit::exp(x) * 0.1; };
  auto dist = [](const Tensor& a, const Tensor& b) { return jit::sqrt(jit::sum(jit::square(a - b))); };
  for (int64_t b : kBatches) {
    agree("mlp", mlp, 0, batch_of({16}, b, 5));
    agree("chain", chain, 0, batch_of({100}, b, 6));
    agree("dist", dist, 0, batch_of({16}, b, 7), batch_of({16}, b, 8));
  }
  agree("chain_f64", chain, 0, batch_of({33}, 17, 9, jit::DType::f64));
  agree("matmul_batched", [](const Tensor& a) { return jit::matmul(a, a); }, 0, batch_of({16, 16}, 19, 10));
}

TEST_CASE("backend: relu of an absolute value keeps the negative inputs' magnitudes") {
  // relu lowered as a NaN select around an ordered compare: LLVM 19's instcombine merged the two
  // compares on |x| into one class test on x and tested x > 0, so relu(abs(x)) gave 0 for every
  // negative x (the differential fuzzer's program 951421). Also an absolute value that LLVM forms
  // itself (x < 0 ? -x : x), in f64, and with NaN and -0 among the inputs.
  auto of_abs = [](const Tensor& x) { return jit::relu(jit::abs(x)); };
  auto of_select = [](const Tensor& x) { return jit::relu(jit::where(x < 0.0, -x, x)); };
  Tensor special = jit::tensor({{-2.f, NAN, -0.f, 0.f, 3.f, -INFINITY, -1e-40f, 5.f}});
  for (jit::DType t : {jit::DType::f32, jit::DType::f64}) {
    agree("relu(abs)", of_abs, 0, batch_of({37}, 9, 41, t));
    agree("relu(where)", of_select, 0, batch_of({37}, 9, 42, t));
    agree("relu(abs) special", of_abs, 0, special.to(t));
  }
  Tensor y = jit::vmap(of_abs)(special);
  CHECK(y.to_vector()[0] == 2.0);
  CHECK(std::isnan(y.to_vector()[1]));
  CHECK(y.to_vector()[5] == INFINITY);
}

TEST_CASE("backend: captured weights packed for a contraction, every block and edge shape") {
  // A captured matrix met by a batched matrix-vector product is packed transposed once per
  // call: in-register blocks of 16 or 8 rows, a partial block for the rows past them (stores
  // under a mask, or whole into rows padded to a register), element copies for the columns
  // past the last 4, and element copies throughout for a strided weight. On AVX-512, rows
  // 9-15 fill part of a block of 16 (padded rows: 12, 15 and 10 here); 17-23 and 31, a block of
  // 16 and part of another; on AVX2, blocks of 8 and part of one.
  for (auto [r, c] : std::vector<std::pair<int64_t, int64_t>>{
           {8, 8}, {16, 16}, {17, 9}, {19, 13}, {33, 40}, {64, 128}, {7, 30}, {30, 7}, {128, 10},
           {8, 4}, {24, 5}, {25, 6}, {10, 128}, {8, 7}, {9, 12}, {12, 5}, {15, 33}, {23, 8}, {31, 17}}) {
    CAPTURE(r);
    CAPTURE(c);
    Tensor w = jit::randn({r, c}, 11);
    agree("mv", [&](const Tensor& x) { return jit::mv(w, x); }, 0, batch_of({c}, 13, 12));
    // A layer's forward and backward products: the second reads W along the dim the first
    // packed innermost (from the argument itself, not the packed copy).
    agree("W x, W^T g", [&](const Tensor& x, const Tensor& g) {
      return jit::concat({jit::mv(w, x), jit::mv(jit::transpose(w, 0, 1), g)}, 0);
    }, 0, batch_of({c}, 13, 14), batch_of({r}, 13, 15));
    // x W (W [in, out]): the lanes run along W's innermost dim, so W is read as it is, not
    // copied.
    agree("x W", [&](const Tensor& x) { return jit::matmul(x, w); }, 0, batch_of({r}, 13, 19));
    // Rows of a sample times W^T: with few outputs (one register of lanes), 12 rows jam 8 and
    // then 4 (a static dim's step of 4).
    agree("X W^T", [&](const Tensor& x) { return jit::matmul(x, jit::transpose(w, 0, 1)); }, 0,
          batch_of({12, c}, 5, 28));
    Tensor scaled = w * 0.5;
    agree("scaled mv", [&](const Tensor& x) { return jit::mv(scaled * 0.25, x); }, 0, batch_of({c}, 3, 13));
    // Elementwise ops on the weight, with a row and a column broadcast: computed along the
    // weight's rows and transposed in registers (both tiers do; the interpreter agrees).
    Tensor row = jit::randn({c}, 16), col = jit::randn({r, 1}, 17);
    agree("tanh(W) * row + col", [&](const Tensor& x) { return jit::mv(jit::tanh(w) * row + col, x); }, 0,
          batch_of({c}, 6, 18));
    std::vector<float> buf(static_cast<size_t>(r * c));
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = std::cos(0.11f * i);
    Tensor wt = jit::from_blob(buf.data(), {r, c}, jit::DType::f32, {1, r});  // columns contiguous
    CHECK_FALSE(wt.is_contiguous());
    agree("strided mv", [&](const Tensor& x) { return jit::mv(wt, x); }, 0, batch_of({c}, 5, 15));
    agree("strided scaled mv", [&](const Tensor& x) { return jit::mv(wt * 0.5, x); }, 0, batch_of({c}, 5, 15));
    // The same strided weight as x W: copied dense, as it is not row-major.
    agree("strided x W", [&](const Tensor& x) { return jit::matmul(x, wt); }, 0, batch_of({r}, 5, 20));
  }
}

TEST_CASE("backend: a sample's result has the same bits whatever the batch around it") {
  // Contractions are register-blocked along the batch (4 samples at a time, 8 when the lanes
  // are one register: a layer of 10 outputs), along the lanes
  // when fewer samples are left (a call of one sample), or not at all: each element is
  // accumulated in the same order in every case.
  Tensor w1 = jit::randn({128, 64}, 31) * 0.125, w2 = jit::randn({10, 128}, 32) * 0.1, b1 = jit::randn({128}, 33);
  auto mlp = [&](const Tensor& x) { return jit::softmax(jit::mv(w2, jit::tanh(jit::mv(w1, x) + b1)), 0); };
  auto mm = [](const Tensor& a) { return jit::matmul(a, jit::transpose(a, 0, 1)); };
  // Distances to captured points: a sum of squares with its lanes over the points, four partial
  // sums per distance.
  Tensor points = jit::randn({40, 16}, 36);
  auto dist = [&](const Tensor& x) { return jit::sqrt(jit::sum(jit::square(x - points), {1})); };
  // A weight read as it is (x W, W [in, out]), not packed.
  Tensor w_in_out = jit::randn({64, 128}, 38);
  auto xw = [&](const Tensor& x) { return jit::tanh(jit::matmul(x, w_in_out)); };
  Tensor xs = batch_of({64}, 11, 34), ms = batch_of({24, 40}, 11, 35), qs = batch_of({16}, 11, 37);
  for (auto tiering : {jit::Tiering::Optimized, jit::Tiering::Quick}) {
    auto f = jit::vmap(mlp, 0, 0, {.name = "mlp", .tiering = tiering});
    auto g = jit::vmap(mm, 0, 0, {.name = "mm", .tiering = tiering});
    auto h = jit::vmap(dist, 0, 0, {.name = "dist", .tiering = tiering});
    auto k = jit::vmap(xw, 0, 0, {.name = "xw", .tiering = tiering});
    Tensor all = f(xs), all_m = g(ms), all_d = h(qs), all_k = k(xs);
    for (int64_t b : {1, 2, 3, 5, 6, 9}) {
      CAPTURE(b);
      for (int64_t at : {int64_t(0), 11 - b}) {
        CAPTURE(at);
        CHECK(same_bits(f(jit::narrow(xs, 0, at, b)), jit::narrow(all, 0, at, b)));
        CHECK(same_bits(g(jit::narrow(ms, 0, at, b)), jit::narrow(all_m, 0, at, b)));
        CHECK(same_bits(h(jit::narrow(qs, 0, at, b)), jit::narrow(all_d, 0, at, b)));
        CHECK(same_bits(k(jit::narrow(xs, 0, at, b)), jit::narrow(all_k, 0, at, b)));
      }
    }
  }
  agree("distances to captured points", dist, 0, qs);
}

TEST_CASE("backend: a batch of short reductions has each output's bits computed alone") {
  // Rows reduced with lanes along them (a dot product of 64) and a batch of such outputs with
  // its lanes over the samples: each output is reduced alone and the batch's outputs folded by
  // one tree (emitter_loops.cpp), the rest of a batch one output at a time. Whatever the batch
  // or tier, a sample's result has the bits it has in a call of its own.
  for (int64_t len : {8, 12, 17, 64, 256}) {
    CAPTURE(len);
    Tensor w = jit::randn({len}, 41), w2 = jit::randn({len}, 49);
    Tensor m = jit::randn({3, len}, 42);
    std::vector<std::pair<const char*, Fn2>> fns{
        {"dot", [](const Tensor& a, const Tensor& b) { return jit::dot(a, b); }},
        {"relu(dot(a, w))", [&](const Tensor& a, const Tensor&) { return jit::relu(jit::dot(a, w)); }},
        {"sum", [](const Tensor& a, const Tensor&) { return jit::sum(a); }},
        {"sum of squares", [](const Tensor& a, const Tensor& b) { return jit::sqrt(jit::sum(jit::square(a - b))); }},
        {"prod", [](const Tensor& a, const Tensor&) { return jit::prod(a * 0.1 + 1.0); }},
        {"max - min", [](const Tensor& a, const Tensor&) { return jit::max(a) - jit::min(a); }},
        {"logsumexp", [](const Tensor& a, const Tensor&) { return jit::logsumexp(a); }},
        {"mv", [&](const Tensor& a, const Tensor&) { return jit::mv(m, a); }},
        // One reduction with its outputs one by one, one with its lanes over them (a
        // broadcast): none is transposed, or the tail would differ from the body.
        {"dot(a, w) + sum(w2 * b[0])",
         [&](const Tensor& a, const Tensor& b) { return jit::dot(a, w) + jit::sum(w2 * jit::select(b, 0, 0)); }},
        {"int sum, max", [](const Tensor& a, const Tensor& b) {
           Tensor i = (a * 100.0).to(jit::DType::i32), j = (b * 100.0).to(jit::DType::i32);
           return (jit::sum(i * j) + jit::max(i)).to(jit::DType::f32);
         }},
    };
    Tensor xs = batch_of({len}, 100, 43), ys = batch_of({len}, 100, 44);
    // NaN, -0 and infinities in a few rows, at different positions.
    std::vector<double> v = xs.to_vector();
    v[3 * len + len / 2] = NAN;
    v[5 * len] = -0.0;
    v[7 * len + len - 1] = INFINITY;
    v[8 * len + 1] = -INFINITY;
    xs = jit::from_vector(v, {100, len}).to(jit::DType::f32);
    for (auto& [name, fn] : fns) {
      INFO(name);
      for (auto tiering : {jit::Tiering::Optimized, jit::Tiering::Quick}) {
        auto f = jit::vmap(fn, 0, 0, {.name = name, .tiering = tiering});
        for (int64_t b : {1, 16, 17, 100}) {
          CAPTURE(b);
          Tensor all = f(jit::narrow(xs, 0, 0, b), jit::narrow(ys, 0, 0, b));
          for (int64_t i = 0; i < b; i += b > 20 ? 7 : 1)
            CHECK(same_bits(f(jit::narrow(xs, 0, i, 1), jit::narrow(ys, 0, i, 1)), jit::narrow(all, 0, i, 1)));
          CHECK(same_bits(jit::narrow(all, 0, b - 1, 1), f(jit::narrow(xs, 0, b - 1, 1), jit::narrow(ys, 0, b - 1, 1))));
        }
      }
      agree(name, fn, 0, xs, ys);
    }
  }
  // Row sums computed inline at indices computed per lane (index_select): reduced where the
  // lanes are.
  auto pick = [](const Tensor& x, const Tensor& i) { return jit::index_select(jit::relu(jit::sum(x, {1})), 0, i); };
  std::vector<double> iv;
  for (int64_t k = 0; k < 50 * 20; ++k) iv.push_back(double((k * 7) % 6));
  agree("index_select of row sums", pick, 0, batch_of({6, 40}, 50, 45), jit::from_vector(iv, {50, 20}).to(jit::DType::i64));
}

TEST_CASE("backend: division by a value the same in every lane has the division's bits") {
  // x / d with d the same across the lanes (a sample's scalar, a row's sum, a constant) is
  // computed from d's reciprocal with one correction where nothing under- or overflows, else
  // divided (lower_elementwise.cpp): bit for bit the division either way, which the quick tier
  // and the interpreter compute directly. Divisors at and past the range's edges (2^+-20),
  // zeros, infinities, NaN and denormals; quotients at and past 2^-40 and 2^80; rows whose
  // vectors take either path.
  const double ds[] = {1, 3, -7, 0.1, 0x1p20, 0x1p21, -0x1p-20, 0x1p-21, 0, -0.0, INFINITY, NAN, 1e-40, 1e30, 12345.678, -0.33};
  const double edges[] = {0, -0.0, 0x1p-60, -0x1p-61, 0x1p100, 0x1p101, 1e-40, INFINITY, -INFINITY, NAN, 0x1p-40, 0x1p80, 1.5e38};
  const int64_t n = sizeof ds / sizeof ds[0], len = 37;  // two vectors of 16 and a remainder
  for (jit::DType t : {jit::DType::f32, jit::DType::f64}) {
    INFO(jit::dtype_name(t));
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> xv, dv;
    for (int rep = 0; rep < 3; ++rep)
      for (int64_t i = 0; i < n; ++i) {
        dv.push_back(ds[i] * (rep == 2 ? 1.0000001 : 1.0));
        for (int64_t k = 0; k < len; ++k) {
          double x = u(rng) * std::ldexp(1.0, int(rng() % 60) - 20);
          // One edge value in the middle vector of the second repetition's rows.
          if (rep == 1 && k == 20) x = edges[i % (sizeof edges / sizeof edges[0])];
          xv.push_back(x);
        }
      }
    Tensor x = jit::from_vector(xv, {3 * n, len}).to(t), d = jit::from_vector(dv, {3 * n}).to(t);
    // Against the quick tier, and the interpreter (but for a sum, added in another order there).
    auto check = [&](const char* what, bool interpreter, auto f, auto... args) {
      INFO(std::string(what));
      Tensor a = jit::vmap(f, 0, 0, {.tiering = jit::Tiering::Optimized})(args...);
      CHECK(same_bits(a, jit::vmap(f, 0, 0, {.tiering = jit::Tiering::Quick})(args...)));
      if (interpreter) CHECK(same_bits(a, jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter})(args...)));
    };
    check("x / d", true, [](const Tensor& a, const Tensor& b) { return a / b; }, x, d);
    check("x / 3", true, [](const Tensor& a) { return a / 3.0; }, x);
    check("x / 0x1p-21", true, [](const Tensor& a) { return a / 0x1p-21; }, x);
    check("x / sum(|x|)", false, [](const Tensor& a) { return a / jit::sum(jit::abs(a)); }, x);
    check("softmax", true, [](const Tensor& a) { return jit::softmax(a, 0); }, x);
  }
}

TEST_CASE("backend: a call of no samples still writes unbatched outputs and reports bad indices") {
  // With no samples the per-call work on unbatched values (packing weights) is skipped, unless
  // it writes an output or checks an index.
  Tensor w = jit::randn({32, 16}, 51);
  auto f = [&](const Tensor& x) {
    return std::make_tuple(jit::mv(w, x), jit::sum(w * 2.0, {1}));
  };
  auto g = jit::vmap(f, 0, {0, jit::none}, {.name = "unbatched output"});
  auto [y, s] = g(jit::empty({0, 16}));
  CHECK(y.shape() == jit::Shape{0, 32});
  CHECK(jit::allclose(s, jit::sum(w * 2.0, {1}), 2e-4, 2e-5));
  auto [y3, s3] = g(jit::randn({3, 16}, 52));
  CHECK(jit::allclose(s3, s));
  // An index out of range in unbatched work is an error whatever the batch, as in the interpreter.
  Tensor idx = jit::from_vector<int64_t>({0, 40}, {2});
  auto h = [&](const Tensor& x) { return x * jit::sum(jit::index_select(w, 0, idx)); };
  for (jit::Backend backend : {jit::Backend::Compiled, jit::Backend::Interpreter}) {
    auto hv = jit::vmap(h, 0, 0, {.backend = backend, .name = "bad index"});
    for (int64_t b : {0, 2}) {
      CAPTURE(b);
      CHECK_THROWS_AS(hv(jit::randn({b, 16}, 53)), jit::Error);
    }
  }
}

TEST_CASE("backend: an element's transcendental does not depend on its vector neighbours") {
  // exp, sigmoid and tanh take a shorter path when every lane of a vector is in range; a lane
  // out of range (large, infinite or NaN) sends its whole vector down the general path, which
  // must give the in-range lanes the same bits.
  auto f = [](const Tensor& a) { return jit::exp(a) + jit::sigmoid(a * 2.0) - jit::tanh(a * 0.5); };
  for (auto tiering : {jit::Tiering::Optimized, jit::Tiering::Quick}) {
    auto g = jit::vmap(f, 0, 0, {.name = "transcendentals", .tiering = tiering});
    auto interp = jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter});
    Tensor x = batch_of({40}, 3, 41) * 4.0;
    Tensor base = g(x);
    for (float odd : {100.f, -100.f, 88.5f, -95.f, INFINITY, -INFINITY, NAN, 1e30f}) {
      CAPTURE(odd);
      std::vector<float> v(x.data<float>(), x.data<float>() + x.numel());
      v[45] = odd;  // sample 1, element 5
      Tensor y = jit::from_blob(v.data(), {3, 40}, jit::DType::f32).contiguous();
      Tensor got = g(y);
      const float *pg = got.data<float>(), *pb = base.data<float>();
      for (int64_t i = 0; i < got.numel(); ++i)
        if (i != 45) REQUIRE(std::memcmp(pg + i, pb + i, sizeof(float)) == 0);
      CHECK(jit::allclose(got, interp(y), 2e-4, 2e-5, /*equal_nan=*/true));
    }
  }
}

TEST_CASE("backend: sigmoid and exp of one x in one group share exp(x), each with its own bits") {
  // sigmoid(x) is e/(1+e) with e = exp(x); a group with both computes e once. Each result must
  // be the bits of the op compiled alone: exp overflowing (sigmoid 1), underflowing through the
  // denormals (sigmoid tiny), and the fast path's vectors.
  std::vector<float> v;
  for (int i = 0; i < 300; ++i) v.push_back(-110.f + 0.7f * i + 0.013f * (i % 7));
  for (float odd : {INFINITY, -INFINITY, 0.f, -0.f, 88.7f, 88.8f, -103.9f, 1e-30f}) v.push_back(odd);
  Tensor x = jit::from_blob(v.data(), {int64_t(v.size()) / 4, 4}, jit::DType::f32).contiguous();
  for (auto tiering : {jit::Tiering::Optimized, jit::Tiering::Quick}) {
    CAPTURE(int(tiering));
    jit::VmapOptions o{.tiering = tiering};
    Tensor both = jit::vmap([](const Tensor& a) { return jit::sigmoid(a) - jit::exp(a); }, 0, 0, o)(x);
    Tensor s = jit::vmap([](const Tensor& a) { return jit::sigmoid(a); }, 0, 0, o)(x);
    Tensor e = jit::vmap([](const Tensor& a) { return jit::exp(a); }, 0, 0, o)(x);
    // Of another x: nothing shared.
    Tensor apart = jit::vmap([](const Tensor& a) { return jit::sigmoid(a) - jit::exp(a * 0.5); }, 0, 0, o)(x);
    Tensor e_half = jit::vmap([](const Tensor& a) { return jit::exp(a * 0.5); }, 0, 0, o)(x);
    for (int64_t i = 0; i < x.numel(); ++i) {
      CAPTURE(v[i]);
      float want = s.data<float>()[i] - e.data<float>()[i], got = both.data<float>()[i];
      CHECK(std::memcmp(&got, &want, sizeof(float)) == 0);
      want = s.data<float>()[i] - e_half.data<float>()[i], got = apart.data<float>()[i];
      CHECK(std::memcmp(&got, &want, sizeof(float)) == 0);
    }
  }
}

TEST_CASE("backend: in_dims other than 0, negative, none, and strided inputs") {
  Tensor x = jit::randn({5, 23}, 1), y = jit::randn({23, 5}, 2);
  auto f = [](const Tensor& a, const Tensor& b) { return jit::exp(a) * b + jit::dot(a, b); };
  agree("in_dims (1, 0)", f, {1, 0}, x, y);
  agree("in_dims (-1, -2)", f, {-1, -2}, x, y);
  agree("in_dims (none, 0)", f, {jit::none, 0}, jit::randn({5}, 3), y);
  // A strided view: every other column of a buffer, read without a copy.
  std::vector<float> buf(23 * 10);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = std::sin(0.37f * i);
  Tensor strided = jit::from_blob(buf.data(), {23, 5}, jit::DType::f32, {10, 2});
  CHECK_FALSE(strided.is_contiguous());
  agree("strided", f, 0, strided, y);
  agree("strided in_dim 1", [](const Tensor& a) { return jit::softmax(a, 0); }, 1, strided);
}

TEST_CASE("backend: nested vmap, chunking and threads agree with the interpreter") {
  Tensor xs = jit::randn({37, 8}, 1), ys = jit::randn({41, 8}, 2);
  auto dist = [](const Tensor& a, const Tensor& b) { return jit::sqrt(jit::sum(jit::square(a - b))); };
  auto pairs = jit::vmap(jit::vmap(dist, {jit::none, 0}), {0, jit::none});
  auto pairs_ref = jit::vmap(jit::vmap(dist, {jit::none, 0}, 0, {.backend = jit::Backend::Interpreter}),
                             {0, jit::none}, 0, {.backend = jit::Backend::Interpreter});
  CHECK(jit::allclose(pairs(xs, ys), pairs_ref(xs, ys), 1e-4, 1e-5));
  auto f = [](const Tensor& a) { return jit::softmax(a, 0) * jit::sum(a); };
  Tensor big = jit::randn({3001, 8}, 3);
  Tensor whole = jit::vmap(f)(big);
  for (int64_t chunk : {1, 7, 1000})
    CHECK(jit::allclose(jit::vmap(f, 0, 0, {.chunk_size = chunk})(big), whole, 1e-6, 1e-7));
  for (int threads : {1, 2})
    CHECK(jit::allclose(jit::vmap(f, 0, 0, {.threads = threads})(big), whole, 1e-6, 1e-7));
}

namespace {
// tanh(mv(a + randn, x)) with randomness "same": under `opts`, each call draws anew (the random
// values are hoisted with the weight), with the bits of the same calls under `reference` after the
// same seed.
void check_draws_per_call(const Tensor& a, const Tensor& xs, jit::VmapOptions opts, jit::VmapOptions reference,
                          uint64_t seed) {
  auto noisy = [&](const Tensor& x) { return jit::tanh(jit::mv(a + jit::randn(a.shape()), x)); };
  opts.randomness = reference.randomness = jit::Randomness::Same;
  auto v = jit::vmap(noisy, 0, 0, opts), r = jit::vmap(noisy, 0, 0, reference);
  jit::manual_seed(seed);
  Tensor first = v(xs), second = v(xs);
  jit::manual_seed(seed);
  CHECK(same_bits(first, r(xs)));
  CHECK(same_bits(second, r(xs)));
  CHECK_FALSE(same_bits(first, second));
}
}  // namespace

TEST_CASE("backend: a call split over threads computes its hoisted values on each thread") {
  // A captured weight packed for a contraction is hoisted: a call split over threads packs it
  // on each thread, into that thread's own memory, before the thread's first chunk. Two
  // functions of the same shapes alternate (the threads' memory holds the other one's weight
  // in between), and one weight changes between calls (captured tensors are read every call):
  // each call has the bits of the same call on one thread.
  std::vector<float> w1(33 * 40), w2(33 * 40);
  for (size_t i = 0; i < w1.size(); ++i) w1[i] = std::sin(0.3f * i), w2[i] = std::cos(0.7f * i);
  Tensor a = jit::from_blob(w1.data(), {33, 40}, jit::DType::f32);
  Tensor b = jit::from_blob(w2.data(), {33, 40}, jit::DType::f32);
  auto fa = [&](const Tensor& x) { return jit::tanh(jit::mv(a, x)); };
  auto fb = [&](const Tensor& x) { return jit::tanh(jit::mv(b, x)); };
  // Calls long enough (about a millisecond) for a sleeping worker to wake and take chunks.
  jit::VmapOptions split{.chunk_size = 16, .threads = 2, .tiering = jit::Tiering::Optimized};
  jit::VmapOptions one{.threads = 1, .tiering = jit::Tiering::Optimized};
  auto va = jit::vmap(fa, 0, 0, split), va1 = jit::vmap(fa, 0, 0, one);
  auto vb = jit::vmap(fb, 0, 0, split), vb1 = jit::vmap(fb, 0, 0, one);
  Tensor xs = batch_of({40}, 4099, 21);
  for (int call = 0; call < 6; ++call) {
    CAPTURE(call);
    CHECK(same_bits(va(xs), va1(xs)));
    CHECK(same_bits(vb(xs), vb1(xs)));
    CHECK_FALSE(same_bits(va(xs), vb(xs)));
    w1[static_cast<size_t>(call * 37)] += 1.0f;
  }
  // Random values drawn once per call (randomness "same") are hoisted too: every thread draws
  // the call's values.
  check_draws_per_call(a, xs, split, one, 3);
}

TEST_CASE("backend: constant captures are computed once, for every thread and tier") {
  // VmapOptions::constant_captures: a captured weight's packed copy is made by the first call
  // and kept. Results have the default's bits (the weight read every call) on one thread, split
  // over two, from the quick tier's first call (its optimized kernels take tens of milliseconds
  // to compile in the background) on to the optimized tier's, and for callers on several
  // threads at once. Writing into the weight after the first call breaks the option's contract;
  // here the weight is read only through its copy, so the write is not seen: the sign that the
  // copy is kept.
  std::vector<float> w(33 * 40);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.3f * i);
  Tensor a = jit::from_blob(w.data(), {33, 40}, jit::DType::f32);
  auto f = [&](const Tensor& x) { return jit::tanh(jit::mv(a, x)); };
  jit::VmapOptions plain{.threads = 1, .tiering = jit::Tiering::Optimized};
  jit::VmapOptions fixed = plain, split = plain, tiered = plain;
  fixed.constant_captures = split.constant_captures = tiered.constant_captures = true;
  split.chunk_size = 16, split.threads = 2;
  tiered.tiering = jit::Tiering::Background;
  auto vp = jit::vmap(f, 0, 0, plain), vf = jit::vmap(f, 0, 0, fixed), vs = jit::vmap(f, 0, 0, split);
  auto vt = jit::vmap(f, 0, 0, tiered), vc = jit::vmap(f, 0, 0, fixed);
  Tensor xs = batch_of({40}, 4099, 21);
  Tensor before = vp(xs);
  CHECK(same_bits(vf(xs), before));
  CHECK(same_bits(vs(xs), before));
  CHECK(same_bits(vt(xs), before));  // the quick tier's values
  std::vector<std::thread> callers;
  std::vector<Tensor> got(4);
  for (size_t t = 0; t < got.size(); ++t) callers.emplace_back([&, t] { got[t] = vc(xs); });
  for (std::thread& t : callers) t.join();
  for (const Tensor& g : got) CHECK(same_bits(g, before));
  w[5] += 1.0f;
  Tensor after = vp(xs);
  CHECK_FALSE(same_bits(after, before));
  jit::wait_for_compiles();
  CHECK(jit::cache_stats(vt).optimized == 1);
  for (auto* v : {&vf, &vs, &vt, &vc}) {
    CHECK(same_bits((*v)(xs), before));
    CHECK(jit::cache_stats(*v).constant == 1);
  }
  CHECK(jit::cache_stats(vp).constant == 0);
  // A transform made now reads the weight as it is.
  CHECK(same_bits(jit::vmap(f, 0, 0, fixed)(xs), after));
  // Work from an argument stays per call: an unmapped scale of the weight, packed with it (the
  // kernel has nothing else to fix).
  auto g = [&](const Tensor& x, const Tensor& s) { return jit::mv(a * s, x); };
  auto gp = jit::vmap(g, {0, jit::none}, 0, plain), gf = jit::vmap(g, {0, jit::none}, 0, fixed);
  Tensor s1 = jit::randn({40}, 22), s2 = jit::randn({40}, 23);
  CHECK(same_bits(gf(xs, s1), gp(xs, s1)));
  CHECK(same_bits(gf(xs, s2), gp(xs, s2)));
  CHECK_FALSE(same_bits(gf(xs, s1), gf(xs, s2)));
  CHECK(jit::cache_stats(gf).constant == 0);  // the option did not apply
  // Value by value: with an argument's work in the same kernel (exp of an unmapped tensor, once
  // per call), the weight's copy is still made once.
  auto h = [&](const Tensor& x, const Tensor& s) { return jit::tanh(jit::mv(a, x) * jit::exp(s)); };
  auto hp = jit::vmap(h, {0, jit::none}, 0, plain), hf = jit::vmap(h, {0, jit::none}, 0, fixed);
  auto hs = jit::vmap(h, {0, jit::none}, 0, split);
  Tensor t1 = jit::randn({33}, 24), t2 = jit::randn({33}, 25);
  Tensor h1 = hp(xs, t1), h2 = hp(xs, t2);
  CHECK_FALSE(same_bits(h1, h2));
  for (int call = 0; call < 2; ++call) {
    CHECK(same_bits(hf(xs, t1), h1));
    CHECK(same_bits(hf(xs, t2), h2));
    CHECK(same_bits(hs(xs, t2), h2));
    CHECK(same_bits(hs(xs, t1), h1));
    w[7] += 1.0f;  // not seen: the weight is read through its copy only
  }
  CHECK(jit::cache_stats(hf).constant == 1);
  CHECK(jit::cache_stats(hs).constant == 1);
  CHECK(jit::cache_stats(hp).constant == 0);
  CHECK_FALSE(same_bits(hp(xs, t1), h1));  // the default reads the weight as it is now
  w[7] -= 2.0f;
  // An index check is per call too: a captured index out of range fails every call, not only
  // the first (the weight's copy is fixed all the same).
  Tensor table = jit::randn({4, 33}, 26), bad = jit::from_vector(std::vector<int64_t>{7}, {1});
  auto lookup = [&](const Tensor& x) { return jit::mv(a, x) * jit::exp(jit::index_select(table, 0, bad).reshape({33})); };
  auto lf = jit::vmap(lookup, 0, 0, fixed);
  for (int call = 0; call < 3; ++call) CHECK_THROWS_AS(lf(xs), jit::Error);
  CHECK(jit::cache_stats(lf).constant == 1);
  // An unbatched output is written every call, after the fixed values: a value read back from
  // it (the packed tanh of the output here) is per call, from the first call on, with or
  // without samples.
  auto twice = [&](const Tensor& x) {
    Tensor s = a * 2.0;
    return std::make_tuple(jit::mv(jit::tanh(s), x), s);
  };
  for (int64_t n : {int64_t(0), int64_t(37)}) {
    CAPTURE(n);
    Tensor few = batch_of({40}, n, 27);
    auto tp = jit::vmap(twice, 0, {0, jit::none}, plain), tf = jit::vmap(twice, 0, {0, jit::none}, fixed);
    for (int call = 0; call < 2; ++call) {
      auto [y1, s1] = tp(few);
      auto [y2, s2] = tf(few);
      CHECK(same_bits(y1, y2));
      CHECK(same_bits(s1, s2));
    }
  }
  // So do random draws (randomness "same": drawn once per call, with the weight).
  check_draws_per_call(a, xs, fixed, plain, 4);
  // A weight of 12 rows: its packed rows of 12 floats padded to a register (AVX-512) in the
  // fixed block, from the quick tier's first call to the optimized kernel's.
  std::vector<float> w12(12 * 40);
  for (size_t i = 0; i < w12.size(); ++i) w12[i] = std::cos(0.7f * i);
  Tensor a12 = jit::from_blob(w12.data(), {12, 40}, jit::DType::f32);
  auto f12 = [&](const Tensor& x) { return jit::tanh(jit::mv(a12, x)); };
  auto p12 = jit::vmap(f12, 0, 0, plain), t12 = jit::vmap(f12, 0, 0, tiered);
  Tensor want12 = p12(xs);
  CHECK(same_bits(t12(xs), want12));
  jit::wait_for_compiles();
  CHECK(jit::cache_stats(t12).optimized == 1);
  CHECK(same_bits(t12(xs), want12));
  CHECK(jit::cache_stats(t12).constant >= 1);
}

TEST_CASE("backend: constant captures in jit::compile: what the captures determine is computed once") {
  // Without a batch every value is per call; with the option, the captured weight's scaling
  // and its bias's exp are computed by the first call and kept: the default's bits, calls with
  // new arguments, and a write into the weight after the first call, not seen (breaking the
  // contract: the sign that the value is kept). Random draws stay per call.
  std::vector<float> w(33 * 40);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.3f * i);
  Tensor a = jit::from_blob(w.data(), {33, 40}, jit::DType::f32), b = jit::randn({33}, 31);
  auto f = [&](const Tensor& x) { return jit::tanh(jit::mv(a * 0.5, x) + jit::exp(b)); };
  auto plain = jit::compile(f, {.tiering = jit::Tiering::Optimized});
  auto fixed = jit::compile(f, {.tiering = jit::Tiering::Optimized, .constant_captures = true});
  auto quick = jit::compile(f, {.tiering = jit::Tiering::Quick, .constant_captures = true});
  Tensor x1 = jit::randn({40}, 32), x2 = jit::randn({40}, 33);
  Tensor y1 = plain(x1), y2 = plain(x2);
  for (int call = 0; call < 2; ++call) {
    CHECK(same_bits(fixed(x1), y1));
    CHECK(same_bits(fixed(x2), y2));
    CHECK(same_bits(quick(x2), y2));
    w[3] += 1.0f;
  }
  CHECK_FALSE(same_bits(plain(x1), y1));
  w[3] -= 2.0f;
  CHECK(jit::cache_stats(fixed).constant == 1);
  CHECK(jit::cache_stats(plain).constant == 0);
  auto noisy = jit::compile([&](const Tensor& x) { return jit::mv(a * jit::rand({33, 40}), x); },
                            {.constant_captures = true});
  jit::manual_seed(5);
  CHECK_FALSE(same_bits(noisy(x1), noisy(x1)));
}

TEST_CASE("backend: NaN, Inf and -0 behave as in the interpreter") {
  const float inf = INFINITY, nan = NAN;
  Tensor x = jit::tensor({{1.f, nan, -inf, 0.f, -0.f, inf, 3.f, -2.f, 5.f},
                          {nan, nan, 1.f, 2.f, -inf, -inf, 0.f, 7.f, -1.f},
                          {-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf}});
  const std::pair<const char*, Fn1> ops[] = {
      {"relu", [](const Tensor& t) { return jit::relu(t); }},
      {"exp", [](const Tensor& t) { return jit::exp(t); }},
      {"tanh", [](const Tensor& t) { return jit::tanh(t); }},
      {"sigmoid", [](const Tensor& t) { return jit::sigmoid(t); }},
      {"max", [](const Tensor& t) { return jit::max(t); }},
      {"min", [](const Tensor& t) { return jit::min(t); }},
      {"sum", [](const Tensor& t) { return jit::sum(t); }},
      {"argmax", [](const Tensor& t) { return jit::argmax(t); }},
      {"argmin", [](const Tensor& t) { return jit::argmin(t); }},
      {"logsumexp", [](const Tensor& t) { return jit::logsumexp(t); }},
      {"softmax", [](const Tensor& t) { return jit::softmax(t, 0); }},
      {"maximum", [](const Tensor& t) { return jit::maximum(t, 0.5); }},
      {"clamp", [](const Tensor& t) { return jit::clamp(t, -1.0, 1.0); }},
      {"sign", [](const Tensor& t) { return jit::sign(t); }},
      {"isnan", [](const Tensor& t) { return jit::isnan(t); }},
      {"cast_int", [](const Tensor& t) { return jit::cast(t, jit::DType::i32); }},
  };
  for (const auto& [name, f] : ops) agree(name, f, 0, x);
}

TEST_CASE("backend: max and min reductions: -0 below +0, NaN anywhere wins, tiers and interpreter bit for bit") {
  // Rows long enough for vector lanes with four partial accumulators and a masked remainder,
  // and short ones; a reduction over a kept dim's lanes ([len, 7] over dim 0) as well. Bit
  // for bit but for NaN's payload and sign (same_bits: any NaN matches any NaN).
  for (jit::DType t : {jit::DType::f32, jit::DType::f64}) {
    for (int64_t len : {1, 5, 16, 17, 64, 67, 200, 1024}) {
      CAPTURE(len);
      std::vector<double> v;
      for (int row = 0; row < 7; ++row) {
        for (int64_t i = 0; i < len; ++i) {
          double x = std::sin(0.7 * double(i * 7 + row)) * 3;
          switch (row) {
            case 1: x = (i * 5 + len) % 3 ? 0.0 : -0.0; break;    // zeros of both signs
            case 2: x = -0.0; break;                               // all -0
            case 3: x = i == (len * 2) / 3 ? NAN : x; break;       // one NaN, mid-row
            case 4: x = i == len - 1 ? -NAN : x; break;            // a negative NaN, last
            case 5: x = i % 2 ? INFINITY : -INFINITY; break;
            case 6: x = i % 4 ? -INFINITY : 0.0; break;
          }
          v.push_back(x);
        }
      }
      Tensor rows = jit::from_vector(v, {7, len}).to(t);
      bool pos_zero = false, neg_zero = false;  // in row 1
      for (int64_t i = 0; i < len; ++i) ((i * 5 + len) % 3 ? pos_zero : neg_zero) = true;
      for (bool mx : {true, false}) {
        auto f = [mx](const Tensor& r) { return mx ? jit::max(r) : jit::min(r); };
        auto optimized = jit::vmap(f, 0, 0, {.tiering = jit::Tiering::Optimized});
        auto quick = jit::vmap(f, 0, 0, {.tiering = jit::Tiering::Quick});
        auto interp = jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter});
        Tensor a = optimized(rows), q = quick(rows), b = interp(rows);
        INFO((mx ? "max" : "min") << " " << jit::dtype_name(t) << "\ncompiled: " << a << "\ninterpreted: " << b);
        CHECK(same_bits(a, b));
        CHECK(same_bits(a, q));
        std::vector<double> got = a.to_vector();
        CHECK(std::signbit(got[1]) == (mx ? !pos_zero : neg_zero));
        CHECK(std::signbit(got[2]));
        CHECK(std::isnan(got[3]));
        CHECK(std::isnan(got[4]));
        // The same over dim 0 of [len, 7]: lanes over the kept dim.
        auto g = [mx](const Tensor& r) { return mx ? jit::max(r, {0}) : jit::min(r, {0}); };
        Tensor cols = jit::stack({rows.transpose(0, 1), rows.transpose(0, 1)}, 0);  // [2, len, 7]
        Tensor c = jit::vmap(g, 0, 0, {.tiering = jit::Tiering::Optimized})(cols);
        CHECK(same_bits(c, jit::vmap(g, 0, 0, {.tiering = jit::Tiering::Quick})(cols)));
        CHECK(same_bits(c, jit::vmap(g, 0, 0, {.backend = jit::Backend::Interpreter})(cols)));
        CHECK(same_bits(jit::select(c, 0, 1), a));
      }
    }
  }
}

TEST_CASE("backend: one compile per signature, whatever the batch size") {
  auto f = jit::vmap([](const Tensor& a) { return jit::relu(a) * 2.0; });
  for (int64_t b : {1, 5, 16, 17, 1000, 3}) f(jit::randn({b, 12}, b));
  CHECK(jit::cache_stats(f).compiles == 1);
  CHECK(jit::cache_stats(f).hits == 5);
  f(jit::randn({4, 13}, 1));  // a new per-sample shape is a new signature
  CHECK(jit::cache_stats(f).compiles == 2);
}

TEST_CASE("backend: concurrent callers with mixed shapes compile each signature once") {
  auto f = jit::vmap([](const Tensor& a) { return jit::softmax(a, 0) + jit::mean(a); });
  const int64_t widths[] = {3, 8, 17, 64};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        int64_t w = widths[(t + i) % 4];
        Tensor x = jit::randn({int64_t(1 + (t * 7 + i) % 50), w}, t * 100 + i);
        Tensor y = f(x);
        Tensor expect = jit::softmax(x, 1) + jit::mean(x, {1}, true);
        if (!jit::allclose(y, expect, 1e-5, 1e-6)) ++bad;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(bad == 0);
  CHECK(jit::cache_stats(f).compiles == 4);
  CHECK(jit::cache_stats(f).hits == 8 * 20 - 4);
}

TEST_CASE("backend: an out-of-range index is an error, and the function still works") {
  auto f = jit::vmap([](const Tensor& x, const Tensor& i) { return jit::index_select(x, 0, i); });
  Tensor x = jit::randn({4, 6}, 1);
  Tensor bad = jit::tensor({{0, 9}, {1, 2}, {3, 3}, {5, 0}}).to(jit::DType::i64);
  CHECK_THROWS_AS(f(x, bad), jit::Error);
  Tensor good = jit::tensor({{0, 5}, {1, 2}, {3, 3}, {5, 0}}).to(jit::DType::i64);
  Tensor r = f(x, good);
  CHECK(r.at({0, 1}) == x.at({0, 5}));
  CHECK(r.at({3, 0}) == x.at({3, 5}));
}
