// tests/unit/test_ops_elementwise.cpp: the elementwise ops against values computed here with
// std:: math: unary ops in every dtype, binary ops with broadcasting and scalars on either side,
// torch's type promotion, NaN and Inf, where and clamp.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "op_test_util.h"

using namespace optest;

namespace {

using UnaryOp = Tensor (*)(const Tensor&);
using RefFn = std::function<double(double)>;

struct UnaryCase {
  const char* name;
  UnaryOp op;
  RefFn ref;
};

Tensor gelu_erf(const Tensor& x) { return jit::gelu(x); }
Tensor gelu_tanh(const Tensor& x) { return jit::gelu(x, true); }

// The float-valued unary ops, each with its definition written out.
const UnaryCase kFloatUnary[] = {
    {"exp", jit::exp, [](double x) { return std::exp(x); }},
    {"log", jit::log, [](double x) { return std::log(x); }},
    {"log1p", jit::log1p, [](double x) { return std::log1p(x); }},
    {"expm1", jit::expm1, [](double x) { return std::expm1(x); }},
    {"sqrt", jit::sqrt, [](double x) { return std::sqrt(x); }},
    {"rsqrt", jit::rsqrt, [](double x) { return 1 / std::sqrt(x); }},
    {"reciprocal", jit::reciprocal, [](double x) { return 1 / x; }},
    {"sin", jit::sin, [](double x) { return std::sin(x); }},
    {"cos", jit::cos, [](double x) { return std::cos(x); }},
    {"tan", jit::tan, [](double x) { return std::tan(x); }},
    {"tanh", jit::tanh, [](double x) { return std::tanh(x); }},
    {"sigmoid", jit::sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }},
    {"erf", jit::erf, [](double x) { return std::erf(x); }},
    {"gelu", gelu_erf, [](double x) { return x * 0.5 * (1 + std::erf(x / std::sqrt(2.0))); }},
    {"gelu_tanh", gelu_tanh,
     [](double x) {
       return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
     }},
    {"neg", jit::neg, [](double x) { return -x; }},
    {"abs", jit::abs, [](double x) { return std::fabs(x); }},
    {"square", jit::square, [](double x) { return x * x; }},
    {"floor", jit::floor, [](double x) { return std::floor(x); }},
    {"ceil", jit::ceil, [](double x) { return std::ceil(x); }},
    {"relu", jit::relu, [](double x) { return std::isnan(x) ? x : x > 0 ? x : 0; }},
};

const std::vector<double> kInputs = {-3.5, -1, -0.25, 0, 1e-3, 0.5, 1, 2.75, 30, kNan, kInf, -kInf};

std::vector<double> apply_ref(const RefFn& f, DType t, const std::vector<double>& in) {
  std::vector<double> out;
  for (double x : in) out.push_back(round_to(t, f(round_to(t, x))));
  return out;
}

}  // namespace

TEST_CASE("elementwise: float unary ops in f32 and f64, with NaN and Inf") {
  for (const UnaryCase& c : kFloatUnary) {
    for (DType t : {DType::f32, DType::f64}) {
      CAPTURE(c.name);
      CAPTURE(jit::dtype_name(t));
      Tensor x = make(t, {3, 4}, kInputs);
      CHECK_VALUES(c.op(x), t, {3, 4}, apply_ref(c.ref, t, kInputs), t == DType::f32 ? 2e-7 : 1e-15, 0);
    }
  }
}

TEST_CASE("elementwise: integer inputs of float ops compute in f32") {
  std::vector<double> v = {-2, 0, 1, 3};
  for (DType t : {DType::i32, DType::i64, DType::b8}) {
    CAPTURE(jit::dtype_name(t));
    std::vector<double> in = t == DType::b8 ? std::vector<double>{1, 0, 1, 1} : v;
    Tensor x = make(t, {4}, in);
    CHECK_VALUES(jit::exp(x), DType::f32, {4}, apply_ref([](double a) { return std::exp(a); }, DType::f32, in));
    CHECK_VALUES(jit::sqrt(x), DType::f32, {4}, apply_ref([](double a) { return std::sqrt(a); }, DType::f32, in));
    CHECK_VALUES(jit::sigmoid(x), DType::f32, {4},
                 apply_ref([](double a) { return 1 / (1 + std::exp(-a)); }, DType::f32, in));
    CHECK(jit::reciprocal(x).dtype() == DType::f32);
  }
}

TEST_CASE("elementwise: integer-preserving unary ops") {
  for (DType t : {DType::i32, DType::i64}) {
    CAPTURE(jit::dtype_name(t));
    Tensor x = make(t, {5}, {-7, -1, 0, 2, 9});
    CHECK_VALUES(jit::neg(x), t, {5}, {7, 1, 0, -2, -9});
    CHECK_VALUES(-x, t, {5}, {7, 1, 0, -2, -9});
    CHECK_VALUES(jit::abs(x), t, {5}, {7, 1, 0, 2, 9});
    CHECK_VALUES(jit::sign(x), t, {5}, {-1, -1, 0, 1, 1});
    CHECK_VALUES(jit::square(x), t, {5}, {49, 1, 0, 4, 81});
    CHECK_VALUES(jit::relu(x), t, {5}, {0, 0, 0, 2, 9});
    CHECK_VALUES(jit::floor(x), t, {5}, {-7, -1, 0, 2, 9});
    CHECK_VALUES(jit::ceil(x), t, {5}, {-7, -1, 0, 2, 9});
    CHECK_VALUES(jit::round(x), t, {5}, {-7, -1, 0, 2, 9});
  }
  // two's complement wrap-around, as torch
  CHECK_VALUES(jit::neg(i32({-2147483648.0})), DType::i32, {1}, {-2147483648.0});
  CHECK_VALUES(jit::abs(i32({-2147483648.0})), DType::i32, {1}, {-2147483648.0});
  // bool: abs and sign are the identity, square counts in i64, neg and relu are errors
  CHECK_VALUES(jit::abs(b8({1, 0})), DType::b8, {2}, {1, 0});
  CHECK_VALUES(jit::sign(b8({1, 0})), DType::b8, {2}, {1, 0});
  CHECK_VALUES(jit::square(b8({1, 0})), DType::i64, {2}, {1, 0});
  CHECK_THROWS_AS(jit::neg(b8({1})), jit::Error);
  CHECK_THROWS_AS(jit::relu(b8({1})), jit::Error);
}

TEST_CASE("elementwise: sign, relu and round at the edges") {
  // sign propagates NaN (as numpy and JAX; torch 1.13's CPU kernel gives 0) and keeps -0 / +0 as 0
  CHECK_VALUES(jit::sign(f32({kNan, -0.0, 0, -2, 3, kInf, -kInf})), DType::f32, {7}, {kNan, 0, 0, -1, 1, 1, -1});
  CHECK_VALUES(jit::sign(f64({kNan, 1e-300})), DType::f64, {2}, {kNan, 1});
  CHECK_VALUES(jit::relu(f32({kNan, -kInf, kInf, -1, 2})), DType::f32, {5}, {kNan, 0, kInf, 0, 2});
  // round: half to even, as torch
  CHECK_VALUES(jit::round(f32({0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, kNan, kInf})), DType::f32, {9},
               {0, 2, 2, 0, -2, -2, 2, kNan, kInf});
  CHECK(std::signbit(jit::round(f32({-0.5})).at({0})));
  CHECK_VALUES(jit::floor(f64({-0.5, 1.999, kNan})), DType::f64, {3}, {-1, 1, kNan});
  CHECK_VALUES(jit::ceil(f64({-0.5, 1.001, -kInf})), DType::f64, {3}, {0, 2, -kInf});
}

TEST_CASE("elementwise: isnan, isinf, logical_not give bool") {
  Tensor x = f32({kNan, kInf, -kInf, 0, -1.5});
  CHECK_VALUES(jit::isnan(x), DType::b8, {5}, {1, 0, 0, 0, 0});
  CHECK_VALUES(jit::isinf(x), DType::b8, {5}, {0, 1, 1, 0, 0});
  CHECK_VALUES(jit::logical_not(x), DType::b8, {5}, {0, 0, 0, 1, 0});  // NaN is true
  CHECK_VALUES(jit::isnan(i32({1, 2})), DType::b8, {2}, {0, 0});
  CHECK_VALUES(jit::isinf(i64({1})), DType::b8, {1}, {0});
  CHECK_VALUES(jit::isnan(b8({1})), DType::b8, {1}, {0});
  CHECK_VALUES(jit::logical_not(b8({1, 0})), DType::b8, {2}, {0, 1});
  CHECK_VALUES(jit::logical_not(i64({3, 0})), DType::b8, {2}, {0, 1});
  CHECK_VALUES(jit::isnan(jit::zeros({0, 2})), DType::b8, {0, 2}, {});
}

TEST_CASE("elementwise: cast") {
  CHECK_VALUES(jit::cast(f64({1.9, -1.9, 1e10, kNan}), DType::i32), DType::i32, {4}, {1, -1, 2147483647, 0});
  CHECK_VALUES(jit::cast(i64({3, 0}), DType::b8), DType::b8, {2}, {1, 0});
  CHECK_VALUES(jit::cast(b8({1, 0}), DType::f64), DType::f64, {2}, {1, 0});
  CHECK_VALUES(jit::cast(jit::tensor<int64_t>({(1ll << 53) + 1}), DType::f64), DType::f64, {1}, {9007199254740992.0});
  CHECK_VALUES(jit::cast(f32({2.5}, {1, 1}), DType::i64), DType::i64, {1, 1}, {2});
  CHECK_VALUES(jit::stop_gradient(f32({1, 2})), DType::f32, {2}, {1, 2});
}

TEST_CASE("elementwise: binary arithmetic with broadcasting") {
  Tensor a = f32({1, 2}, {2, 1}), b = f32({10, 20, 30});
  CHECK_VALUES(jit::add(a, b), DType::f32, {2, 3}, {11, 21, 31, 12, 22, 32});
  CHECK_VALUES(jit::sub(a, b), DType::f32, {2, 3}, {-9, -19, -29, -8, -18, -28});
  CHECK_VALUES(jit::mul(a, b), DType::f32, {2, 3}, {10, 20, 30, 20, 40, 60});
  CHECK_VALUES(jit::div(a, b), DType::f32, {2, 3},
               {1 / 10.f, 1 / 20.f, 1 / 30.f, 2 / 10.f, 2 / 20.f, 2 / 30.f});
  CHECK_VALUES(jit::pow(a, f32({0.5, 2, -1})), DType::f32, {2, 3},
               {1, 1, 1, double(std::sqrt(2.f)), 4, 0.5});
  CHECK_VALUES(jit::maximum(a, f32({0, 1.5, 3})), DType::f32, {2, 3}, {1, 1.5, 3, 2, 2, 3});
  CHECK_VALUES(jit::minimum(a, f32({0, 1.5, 3})), DType::f32, {2, 3}, {0, 1, 1, 0, 1.5, 2});
  // rank-3 against rank-1 and a leading size-1 dim
  Tensor c = f64({1, 2, 3, 4}, {2, 1, 2});
  CHECK_VALUES(c * f64({1, 10, 100}, {1, 3, 1}), DType::f64, {2, 3, 2},
               {1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400});
  // 0-d with anything
  CHECK_VALUES(scalar(DType::f32, 2) * b, DType::f32, {3}, {20, 40, 60});
  CHECK_VALUES(scalar(DType::f32, 2) - scalar(DType::f32, 5), DType::f32, {}, {-3});
  // zero-size dims broadcast to zero-size results
  CHECK_VALUES(jit::zeros({0, 3}) + b, DType::f32, {0, 3}, {});
  CHECK_VALUES(jit::zeros({0}) + f32({1}), DType::f32, {0}, {});
  CHECK_VALUES(jit::zeros({2, 0}) * jit::zeros({1, 1}), DType::f32, {2, 0}, {});
  CHECK_THROWS_AS(jit::add(f32({1, 2}), f32({1, 2, 3})), jit::Error);
  CHECK_THROWS_AS(jit::add(jit::zeros({0}), f32({1, 2})), jit::Error);
}

TEST_CASE("elementwise: a scalar on either side") {
  Tensor x = f32({1, 2, 4});
  CHECK_VALUES(x + 1, DType::f32, {3}, {2, 3, 5});
  CHECK_VALUES(1 + x, DType::f32, {3}, {2, 3, 5});
  CHECK_VALUES(x - 1.5, DType::f32, {3}, {-0.5, 0.5, 2.5});
  CHECK_VALUES(1.5 - x, DType::f32, {3}, {0.5, -0.5, -2.5});
  CHECK_VALUES(x * 3, DType::f32, {3}, {3, 6, 12});
  CHECK_VALUES(x / 2, DType::f32, {3}, {0.5, 1, 2});
  CHECK_VALUES(2 / x, DType::f32, {3}, {2, 1, 0.5});
  CHECK_VALUES(jit::pow(x, 2), DType::f32, {3}, {1, 4, 16});
  CHECK_VALUES(jit::pow(2, x), DType::f32, {3}, {2, 4, 16});
  CHECK_VALUES(jit::pow(x, 0.5), DType::f32, {3}, {1, double(std::sqrt(2.f)), 2});
  CHECK_VALUES(jit::maximum(x, 2), DType::f32, {3}, {2, 2, 4});
  CHECK_VALUES(jit::minimum(3, x), DType::f32, {3}, {1, 2, 3});
  CHECK_VALUES(x > 1.5, DType::b8, {3}, {0, 1, 1});
  CHECK_VALUES(2 <= x, DType::b8, {3}, {0, 1, 1});
  CHECK_VALUES(jit::eq(x, 2), DType::b8, {3}, {0, 1, 0});
  CHECK_VALUES(jit::ne(4, x), DType::b8, {3}, {1, 1, 0});
  CHECK_VALUES(jit::logical_and(x, false), DType::b8, {3}, {0, 0, 0});
  CHECK_VALUES(jit::logical_or(0, x - 1), DType::b8, {3}, {0, 1, 1});
}

TEST_CASE("elementwise: torch's type promotion") {
  Tensor xi32 = i32({1, 2}), xi64 = i64({1, 2}), xf32 = f32({1, 2}), xf64 = f64({1, 2}), xb = b8({1, 0});
  struct Case {
    const char* what;
    Tensor result;
    DType want;
  };
  const Case cases[] = {
      {"i32 + 2.5", xi32 + 2.5, DType::f32},
      {"i64 + 2.5", xi64 + 2.5, DType::f32},
      {"i32 + int", xi32 + 2, DType::i32},
      {"i32 + bool", xi32 + true, DType::i32},
      {"f64 + int", xf64 + 1, DType::f64},
      {"f64 + float", xf64 + 1.5, DType::f64},
      {"f32 + float", xf32 + 1.5, DType::f32},
      {"int * f32", 2 * xf32, DType::f32},
      {"i32 + 0-d f64 tensor", xi32 + scalar(DType::f64, 2.5), DType::f64},
      {"i32 + 0-d i64 tensor", xi32 + scalar(DType::i64, 2), DType::i32},
      {"f32 + 0-d f64 tensor", xf32 + scalar(DType::f64, 2), DType::f32},
      {"0-d i32 + 2.5", scalar(DType::i32, 1) + 2.5, DType::f32},
      {"0-d i32 + 0-d i64", scalar(DType::i32, 1) + scalar(DType::i64, 1), DType::i64},
      {"0-d f64 + f32", scalar(DType::f64, 1) + 1.5f, DType::f64},
      {"i32 + i64", xi32 + xi64, DType::i64},
      {"f32 + f64", xf32 + xf64, DType::f64},
      {"i64 + f32", xi64 + xf32, DType::f32},
      {"bool + bool", xb + xb, DType::b8},
      {"bool + int", xb + 1, DType::i64},
      {"bool + float", xb + 1.5, DType::f32},
      {"bool + i32", xb + xi32, DType::i32},
      {"bool + 0-d f64", xb + scalar(DType::f64, 1), DType::f64},
      {"bool * bool", xb * xb, DType::b8},
      {"i32 / i32", xi32 / xi32, DType::f32},
      {"i64 / int", xi64 / 2, DType::f32},
      {"bool / bool", xb / xb, DType::f32},
      {"f64 / int", xf64 / 2, DType::f64},
      {"i32 ** int", jit::pow(xi32, 2), DType::i32},
      {"i32 ** float", jit::pow(xi32, 0.5), DType::f32},
      {"f32 ** i64 tensor", jit::pow(xf32, xi64), DType::f32},
      {"max(i32, 2.5)", jit::maximum(xi32, 2.5), DType::f32},
      {"i32 < 2.5", xi32 < 2.5, DType::b8},
      {"f64 == f32", jit::eq(xf64, xf32), DType::b8},
      {"bool > bool", xb > xb, DType::b8},
      {"logical_and(f32, i32)", jit::logical_and(xf32, xi32), DType::b8},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK(jit::dtype_name(c.result.dtype()) == jit::dtype_name(c.want));
  }
  // the values follow the promoted dtype
  CHECK_VALUES(xi32 + 2.5, DType::f32, {2}, {3.5, 4.5});
  CHECK_VALUES(i32({2, 3}) < 2.5, DType::b8, {2}, {1, 0});  // compared as floats, not as 2 < 2
  CHECK_VALUES(i32({7, -7}) / 2, DType::f32, {2}, {3.5, -3.5});
  CHECK_VALUES(i32({1, 0, -1}) / i32({0, 0, 0}), DType::f32, {3}, {kInf, kNan, -kInf});
  CHECK_VALUES(xb + xb, DType::b8, {2}, {1, 0});  // true + true is true
  CHECK_VALUES(xb + 1, DType::i64, {2}, {2, 1});
  CHECK_VALUES(xf64 + 0.1, DType::f64, {2}, {1.1, 2.1}, 0, 0);  // 0.1 is not rounded to f32
  CHECK_VALUES(f32({1}) + scalar(DType::f64, 0.1), DType::f32, {1}, {double(1 + 0.1f)});
  CHECK_VALUES(i64({1ll << 40}) + 1, DType::i64, {1}, {double((1ll << 40) + 1)});
  CHECK_VALUES(jit::pow(i32({2, 3, -2}), 3), DType::i32, {3}, {8, 27, -8});
  CHECK_VALUES(jit::pow(i64({2, 1, -1}), i64({-1, -5, -3})), DType::i64, {3}, {0, 1, -1});
  CHECK_VALUES(i32({2147483647}) + 1, DType::i32, {1}, {-2147483648.0});  // wraps
  CHECK_THROWS_AS(xb - xb, jit::Error);  // as torch: subtraction of bools is an error
}

TEST_CASE("elementwise: NaN and Inf in binary ops") {
  Tensor a = f32({kNan, 1, kNan, kInf, -kInf, 0});
  Tensor b = f32({0, kNan, kNan, 1, kInf, -0.0});
  CHECK_VALUES(jit::maximum(a, b), DType::f32, {6}, {kNan, kNan, kNan, kInf, kInf, 0});
  CHECK_VALUES(jit::minimum(a, b), DType::f32, {6}, {kNan, kNan, kNan, 1, -kInf, 0});
  CHECK_VALUES(jit::maximum(f64({kNan}), 1), DType::f64, {1}, {kNan});
  CHECK_VALUES(jit::minimum(-kInf, f64({kNan, 2})), DType::f64, {2}, {kNan, -kInf});
  CHECK_VALUES(jit::eq(a, b), DType::b8, {6}, {0, 0, 0, 0, 0, 1});
  CHECK_VALUES(jit::ne(a, b), DType::b8, {6}, {1, 1, 1, 1, 1, 0});
  CHECK_VALUES(jit::lt(a, b), DType::b8, {6}, {0, 0, 0, 0, 1, 0});
  CHECK_VALUES(jit::ge(a, b), DType::b8, {6}, {0, 0, 0, 1, 0, 1});
  CHECK_VALUES(a + b, DType::f32, {6}, {kNan, kNan, kNan, kInf, kNan, 0});
  CHECK_VALUES(a * b, DType::f32, {6}, {kNan, kNan, kNan, kInf, -kInf, 0});
  CHECK_VALUES(f64({1, -1, 0}) / 0.0, DType::f64, {3}, {kInf, -kInf, kNan});
  CHECK_VALUES(jit::pow(f64({kNan, 1, -8}), f64({0, kNan, 1.0 / 3})), DType::f64, {3}, {1, 1, kNan});
  CHECK_VALUES(jit::maximum(i32({3, -5}), i32({1, 2})), DType::i32, {2}, {3, 2});
  CHECK_VALUES(jit::minimum(b8({1, 0}), b8({1, 1})), DType::b8, {2}, {1, 0});
}

TEST_CASE("elementwise: comparison and logical ops") {
  Tensor a = i64({1, 2, 3}), b = i64({3, 2, 1});
  CHECK_VALUES(jit::eq(a, b), DType::b8, {3}, {0, 1, 0});
  CHECK_VALUES(jit::ne(a, b), DType::b8, {3}, {1, 0, 1});
  CHECK_VALUES(jit::lt(a, b), DType::b8, {3}, {1, 0, 0});
  CHECK_VALUES(jit::le(a, b), DType::b8, {3}, {1, 1, 0});
  CHECK_VALUES(jit::gt(a, b), DType::b8, {3}, {0, 0, 1});
  CHECK_VALUES(jit::ge(a, b), DType::b8, {3}, {0, 1, 1});
  CHECK_VALUES(a < b, DType::b8, {3}, {1, 0, 0});
  CHECK_VALUES(a >= b, DType::b8, {3}, {0, 1, 1});
  // int64 values beyond double's precision compare exactly
  Tensor big = jit::tensor<int64_t>({(1ll << 53) + 1, (1ll << 53)});
  CHECK_VALUES(jit::eq(big, jit::tensor<int64_t>({1ll << 53})), DType::b8, {2}, {0, 1});
  CHECK_VALUES(jit::lt(big, jit::tensor<int64_t>({(1ll << 53) + 1})), DType::b8, {2}, {0, 1});
  CHECK_VALUES(big - jit::tensor<int64_t>({1ll << 53}), DType::i64, {2}, {1, 0});
  Tensor p = b8({1, 1, 0, 0}), q = b8({1, 0, 1, 0});
  CHECK_VALUES(jit::logical_and(p, q), DType::b8, {4}, {1, 0, 0, 0});
  CHECK_VALUES(jit::logical_or(p, q), DType::b8, {4}, {1, 1, 1, 0});
  CHECK_VALUES(jit::logical_and(f32({0, kNan, 2}), f32({1})), DType::b8, {3}, {0, 1, 1});
  CHECK_VALUES(jit::logical_or(b8({0, 1}, {2, 1}), b8({0, 1})), DType::b8, {2, 2}, {0, 1, 1, 1});
  CHECK_VALUES(jit::eq(b8({1, 0}), 1), DType::b8, {2}, {1, 0});
}

TEST_CASE("elementwise: where") {
  Tensor c = b8({1, 0, 1});
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_VALUES(jit::where(c, a, f32({-1, -2, -3})), DType::f32, {2, 3}, {1, -2, 3, 4, -2, 6});
  CHECK_VALUES(jit::where(c, a, 0), DType::f32, {2, 3}, {1, 0, 3, 4, 0, 6});
  CHECK_VALUES(jit::where(c, 0.5, a), DType::f32, {2, 3}, {0.5, 2, 0.5, 0.5, 5, 0.5});
  CHECK_VALUES(jit::where(b8({1, 0}, {2, 1}), 1, 0), DType::i64, {2, 1}, {1, 0});
  CHECK_VALUES(jit::where(c, 1.5, 0), DType::f32, {3}, {1.5, 0, 1.5});
  CHECK_VALUES(jit::where(c, i32({1, 2, 3}), 2.5), DType::f32, {3}, {1, 2.5, 3});
  CHECK_VALUES(jit::where(c, f32({1, 2, 3}), f64({7})), DType::f64, {3}, {1, 7, 3});
  CHECK_VALUES(jit::where(c, i32({1, 2, 3}), i64({-1, -2, -3})), DType::i64, {3}, {1, -2, 3});
  CHECK_VALUES(jit::where(c, b8({0, 0, 0}), b8({1, 1, 1})), DType::b8, {3}, {0, 1, 0});
  // NaN is selected like any value and does not leak from the other side
  CHECK_VALUES(jit::where(c, f32({kNan, kNan, 1}), f32({2, 2, kNan})), DType::f32, {3}, {kNan, 2, 1});
  // a numeric condition counts nonzero as true
  CHECK_VALUES(jit::where(i32({0, 3}), 1.0, 2.0), DType::f32, {2}, {2, 1});
  CHECK_VALUES(jit::where(scalar(DType::b8, 1), a, 0), DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_VALUES(jit::where(jit::zeros({0, 1}, DType::b8), a.reshape({6}), 1), DType::f32, {0, 6}, {});
  CHECK_THROWS_AS(jit::where(b8({1, 0}), a, 0), jit::Error);
}

TEST_CASE("elementwise: clamp") {
  Tensor x = f32({-2, 0.5, 3, kNan, -kInf, kInf});
  CHECK_VALUES(jit::clamp(x, 0, 1), DType::f32, {6}, {0, 0.5, 1, kNan, 0, 1});
  CHECK_VALUES(jit::clamp(x, 0, std::nullopt), DType::f32, {6}, {0, 0.5, 3, kNan, 0, kInf});
  CHECK_VALUES(jit::clamp(x, std::nullopt, 1), DType::f32, {6}, {-2, 0.5, 1, kNan, -kInf, 1});
  CHECK_VALUES(jit::clamp(x, 2, 1), DType::f32, {6}, {1, 1, 1, kNan, 1, 1});  // lo > hi: all hi
  CHECK_VALUES(jit::clamp(f32({0.5}), kNan, 1), DType::f32, {1}, {kNan});  // a NaN bound propagates
  CHECK_VALUES(jit::clamp(f32({0.5}), 0, kNan), DType::f32, {1}, {kNan});
  // integer tensors: integer bounds keep the dtype, float bounds promote
  Tensor xi = i32({1, 2, 3});
  CHECK_VALUES(jit::clamp(xi, 2, 2), DType::i32, {3}, {2, 2, 2});
  CHECK_VALUES(jit::clamp(xi, 0.5, 2.5), DType::f32, {3}, {1, 2, 2.5});
  CHECK_VALUES(jit::clamp(xi, 1.5, std::nullopt), DType::f32, {3}, {1.5, 2, 3});
  CHECK_VALUES(jit::clamp(i64({-5, 5}), -1, 1), DType::i64, {2}, {-1, 1});
  // tensor bounds broadcast
  Tensor m = f64({1, 5, 9, 1, 5, 9}, {2, 3});
  CHECK_VALUES(jit::clamp(m, f64({2, 2, 2}), f64({4, 8}, {2, 1})), DType::f64, {2, 3}, {2, 4, 4, 2, 5, 8});
  CHECK_VALUES(jit::clamp(m, scalar(DType::f64, 3), scalar(DType::f64, 6)), DType::f64, {2, 3}, {3, 5, 6, 3, 5, 6});
  CHECK_VALUES(jit::clamp(m, f64({4}), Tensor()), DType::f64, {2, 3}, {4, 5, 9, 4, 5, 9});
  CHECK_VALUES(jit::clamp(m, Tensor(), f32({4, 8}, {2, 1})), DType::f64, {2, 3}, {1, 4, 4, 1, 5, 8});
  CHECK_VALUES(jit::clamp(i32({1, 5}), f32({2.5}), f32({4})), DType::f32, {2}, {2.5, 4});
  CHECK_THROWS_AS(jit::clamp(x, std::nullopt, std::nullopt), jit::Error);
  CHECK_THROWS_AS(jit::clamp(x, Tensor(), Tensor()), jit::Error);
}
