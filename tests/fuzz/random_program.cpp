// tests/fuzz/random_program.cpp: the random program generator (the differential check: check.cpp).
#include "random_program.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace fuzz {
namespace {

using jit::Tensor;

enum Kind {
  kUnary, kBinary, kScalar, kWhere, kClamp, kCompare, kReduce, kArg, kNorm, kContract,
  kReshape, kTranspose, kExpand, kUnsqueeze, kSlice, kSelect, kIndexSelect, kGather, kConcat,
  kStack, kRound, kNumKinds
};

const char* kKindNames[] = {"unary", "binary", "scalar", "where/fma", "clamp", "compare", "reduce",
                            "arg", "norm", "contract", "reshape", "transpose", "expand",
                            "unsqueeze", "slice", "select", "index_select", "gather", "concat",
                            "stack", "round"};

constexpr int kUnaryOps = 22;
// Unary ops, with inputs kept in their domain (log of |x| + 0.5, exp of a clamped x, ...).
Tensor unary(int which, const Tensor& x) {
  auto pos = [&] { return jit::abs(x) + 0.5; };
  auto bounded = [&] { return jit::clamp(x, -8.0, 8.0); };
  switch (which) {
    case 0: return -x;
    case 1: return jit::abs(x);
    case 2: return jit::sign(x);
    case 3: return jit::exp(bounded());
    case 4: return jit::log(pos());
    case 5: return jit::log1p(jit::abs(x));
    case 6: return jit::expm1(bounded());
    case 7: return jit::sqrt(pos());
    case 8: return jit::rsqrt(pos());
    case 9: return jit::square(x);
    case 10: return jit::reciprocal(pos());
    case 11: return jit::sin(x);
    case 12: return jit::cos(x);
    case 13: return jit::tan(jit::clamp(x, -1.2, 1.2));
    case 14: return jit::tanh(x);
    case 15: return jit::sigmoid(x);
    case 16: return jit::relu(x);
    case 17: return jit::gelu(x);
    case 18: return jit::gelu(x, true);
    case 19: return jit::erf(x);
    case 20: return jit::floor(x * 2.0);
    default: return jit::ceil(x * 2.0);
  }
}

constexpr int kBinaryOps = 7;
Tensor binary(int which, const Tensor& a, const Tensor& b) {
  switch (which) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / (jit::abs(b) + 0.5);
    case 4: return jit::pow(jit::abs(a) + 0.5, jit::clamp(b, -3.0, 3.0));
    case 5: return jit::maximum(a, b);
    default: return jit::minimum(a, b);
  }
}

Tensor apply_step(const Step& s, const std::vector<Tensor>& v) {
  const Tensor& x = v[s.args[0]];
  auto y = [&] { return v[s.args[1]]; };
  auto dims = [&](const Tensor& t) {  // a subset of dims from the mask in ints[1]
    jit::Dims d;
    for (int64_t i = 0; i < t.dim(); ++i)
      if (s.ints[1] >> i & 1) d.push_back(i);
    return d;
  };
  switch (s.kind) {
    case kUnary: return unary(static_cast<int>(s.ints[0]), x);
    case kBinary: return binary(static_cast<int>(s.ints[0]), x, y());
    case kScalar: {
      double c = static_cast<double>(s.ints[1]) / 4;
      return s.ints[0] == 0 ? x + c : s.ints[0] == 1 ? c * x : c - x;
    }
    // ints[0] (drawn for kCompare's sake) picks an explicit fma one time in three.
    case kWhere: return s.ints[0] == 2 ? jit::fma(x, y(), x * 0.5) : jit::where(x > y(), x, y() * 2.0);
    case kClamp: return jit::clamp(x, -0.5, 0.75);
    case kCompare: {
      Tensor c = s.ints[0] == 0 ? jit::lt(x, y()) : s.ints[0] == 1 ? jit::ge(x, 0.0) : jit::ne(x, y());
      return jit::cast(c, jit::DType::f32);
    }
    case kReduce: {
      bool keep = s.ints[2];
      switch (s.ints[0]) {
        case 0: return jit::sum(x, dims(x), keep);
        case 1: return jit::mean(x, dims(x), keep);
        case 2: return jit::prod(jit::tanh(x), dims(x), keep);
        case 3: return jit::max(x, dims(x), keep);
        case 4: return jit::min(x, dims(x), keep);
        case 5: return jit::logsumexp(x, dims(x), keep);
        default: return jit::var(x, dims(x), 1, keep);
      }
    }
    case kArg: {
      // Over x on a grid of 1/64: values that differ by rounding alone (each row sum of a
      // softmax is 1 give or take an ulp, summed in another order compiled than interpreted)
      // almost always land on the same point, and tie exactly: the first index wins in both.
      // At a near-tie either index would be right, and the oracle could not tell (only values
      // within an ulp of a half-step still round apart). Exact ties, under test, become common.
      Tensor q = jit::round(x * 64.0);
      Tensor i = s.ints[0] ? jit::argmax(q, s.ints[1], s.ints[2]) : jit::argmin(q, s.ints[1], s.ints[2]);
      return jit::cast(i, jit::DType::f32);
    }
    case kNorm:
      if (s.ints[0] == 0) return jit::softmax(x, -1);
      if (s.ints[0] == 1) return jit::log_softmax(x, 0);
      if (x.dim() == 0) throw jit::Error(jit::ErrorKind::Shape, "layer_norm of a scalar");
      return jit::layer_norm(x, {x.shape().back()});
    case kContract:
      switch (s.ints[0]) {
        case 0: return jit::dot(x, y());
        case 1: return jit::mv(x, y());
        case 2: return jit::mm(x, y());
        case 3: return jit::outer(x, y());
        default: return jit::matmul(x, y());
      }
    case kReshape: return s.ints[0] == 0 ? jit::flatten(x) : jit::reshape(x, {s.ints[1], -1});
    case kTranspose: return jit::transpose(x, s.ints[0], s.ints[1]);
    case kExpand: {
      jit::Shape sh = x.shape();
      sh.insert(sh.begin(), s.ints[0]);
      return jit::expand(x, sh);
    }
    case kUnsqueeze: return s.ints[1] ? jit::squeeze(jit::unsqueeze(x, s.ints[0]), s.ints[0]) * 1.5
                                      : jit::unsqueeze(x, s.ints[0]);
    case kSlice: return jit::slice(x, s.ints[0], s.ints[1], s.ints[2], s.ints[3]);
    case kSelect: return jit::select(x, s.ints[0], s.ints[1]);
    case kIndexSelect: return jit::index_select(x, s.ints[0], y());
    case kGather: return jit::gather(x, s.ints[0], y());
    case kConcat: return jit::concat({x, jit::tanh(y())}, s.ints[0]);
    case kStack: return jit::stack({x, -x}, s.ints[0]);
    default: return jit::round(x * 3.0);
  }
}

// Generation state: one example sample, to learn each value's shape and reject invalid steps.
struct Gen {
  std::mt19937_64 rng;
  Program p;
  std::vector<Tensor> vals;
  Step* pending = nullptr;  // the step being built: its args shift too when an input is added

  int64_t pick(int64_t n) { return n > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(n)) : 0; }
  int64_t dim() { return std::vector<int64_t>{1, 2, 3, 4, 5, 8, 9}[pick(7)]; }

  int add_input(InputSpec in) {
    Tensor ex = in.index_bound > 0
                    ? jit::cast(jit::floor(jit::rand(in.shape, rng()) * double(in.index_bound)), jit::DType::i64)
                    : jit::randn(in.shape, rng());
    int pos = static_cast<int>(p.inputs.size());
    p.inputs.push_back(std::move(in));
    // Inputs are values 0..n-1: insert before the steps' values.
    vals.insert(vals.begin() + pos, ex);
    for (Step& s : p.steps)
      for (int& a : s.args)
        if (a >= pos) ++a;
    if (pending)
      for (int& a : pending->args)
        if (a >= pos) ++a;
    for (int& o : p.outputs)
      if (o >= pos) ++o;
    return pos;
  }
  jit::Shape random_shape(int64_t rank) {
    jit::Shape s;
    for (int64_t i = 0; i < rank; ++i) s.push_back(dim());
    return s;
  }
  int any_value() { return static_cast<int>(pick(static_cast<int64_t>(vals.size()))); }
  // A value of floating dtype (most are).
  int float_value() {
    for (int tries = 0; tries < 20; ++tries) {
      int v = any_value();
      if (jit::is_float(vals[v].dtype())) return v;
    }
    return add_input({random_shape(1 + pick(2))});
  }
  // A partner for a broadcasting op: the same shape, a suffix of it, or with 1s.
  int partner(const Tensor& x) {
    int64_t mode = pick(4);
    jit::Shape s = x.shape();
    if (mode == 1 && !s.empty()) s.erase(s.begin(), s.begin() + pick(static_cast<int64_t>(s.size()) + 1));
    if (mode == 2)
      for (int64_t& d : s)
        if (pick(2)) d = 1;
    if (mode == 3) {  // an existing value, if it fits
      int v = float_value();
      return v;
    }
    return add_input({s});
  }

  bool try_step(Step s) {
    try {
      Tensor r = apply_step(s, vals);
      if (r.numel() > 4096) return false;  // keep programs small
      p.steps.push_back(std::move(s));
      vals.push_back(r);
      return true;
    } catch (const jit::Error&) {
      return false;
    }
  }

  void step() {
    int x = float_value();
    Tensor xv = vals[x];  // a handle: vals may grow
    int64_t r = xv.dim();
    Step s{static_cast<int>(pick(kNumKinds)), {x}, {}};
    pending = &s;
    auto d = [&] { return r ? pick(r) : 0; };
    switch (s.kind) {
      case kUnary: s.ints = {pick(kUnaryOps)}; break;
      case kBinary: s.args.push_back(partner(xv)); s.ints = {pick(kBinaryOps)}; break;
      case kScalar: s.ints = {pick(3), pick(17) - 8}; break;
      case kWhere: case kCompare: s.args.push_back(partner(xv)); s.ints = {pick(3)}; break;
      case kReduce: s.ints = {pick(7), static_cast<int64_t>(rng() % (1u << std::max<int64_t>(r, 1))), pick(2)}; break;
      case kArg: s.ints = {pick(2), d(), pick(2)}; break;
      case kNorm: s.ints = {pick(3)}; break;
      case kContract: {
        int64_t which = pick(5);
        int64_t k = r ? xv.shape()[r - 1] : 1;
        jit::Shape other = which == 0 ? jit::Shape{k} : which == 1 ? jit::Shape{k}
                           : which == 2 ? jit::Shape{k, dim()} : which == 3 ? jit::Shape{dim()}
                                        : jit::Shape{k, dim()};
        if (which == 4 && pick(2)) other.insert(other.begin(), r >= 3 ? xv.shape()[0] : dim());
        s.args.push_back(add_input({other}));
        s.ints = {which};
        break;
      }
      case kReshape: s.ints = {pick(2), r ? xv.shape()[0] : 1}; break;
      case kTranspose: s.ints = {d(), d()}; break;
      case kExpand: s.ints = {1 + pick(3)}; break;
      case kUnsqueeze: s.ints = {pick(r + 1), pick(2)}; break;
      case kSlice: {
        int64_t dd = d(), n = r ? xv.shape()[dd] : 1;
        s.ints = {dd, pick(n + 1) - pick(2) * n, pick(n + 2), 1 + pick(3)};
        break;
      }
      case kSelect: { int64_t dd = d(); s.ints = {dd, r ? pick(xv.shape()[dd]) : 0}; break; }
      case kIndexSelect: {
        int64_t dd = d();
        s.args.push_back(add_input({{1 + pick(4)}, jit::DType::i64, r ? xv.shape()[dd] : 1}));
        s.ints = {dd};
        break;
      }
      case kGather: {
        int64_t dd = d();
        jit::Shape sh = xv.shape();
        if (r) sh[dd] = 1 + pick(4);
        s.args.push_back(add_input({sh, jit::DType::i64, r ? xv.shape()[dd] : 1}));
        s.ints = {dd};
        break;
      }
      case kConcat: s.args.push_back(x); s.ints = {d()}; break;
      case kStack: s.ints = {pick(r + 1)}; break;
      default: break;
    }
    pending = nullptr;
    try_step(std::move(s));
  }
};

}  // namespace

Program generate(uint64_t seed) {
  Gen g{std::mt19937_64(seed), {}, {}};
  g.p.seed = seed;
  g.add_input({g.random_shape(1 + g.pick(3))});
  int64_t steps = 2 + g.pick(7);
  // A step adds at most three inputs: the last one starts with at most kMaxInputs - 3.
  for (int tries = 0; tries < 60 && static_cast<int64_t>(g.p.steps.size()) < steps &&
                      g.p.inputs.size() + 3 <= kMaxInputs;
       ++tries)
    g.step();
  int last = static_cast<int>(g.vals.size()) - 1;
  g.p.outputs = {last};
  if (g.vals.size() > 2 && g.pick(3) == 0) g.p.outputs.push_back(static_cast<int>(g.pick(last)));
  // in_dims: 0, -1 or none (at least one mapped).
  auto dims_for = [&](bool inner) {
    std::vector<std::optional<int64_t>> d;
    bool any = false;
    for (size_t i = 0; i < g.p.inputs.size(); ++i) {
      int64_t c = g.pick(4);
      std::optional<int64_t> v = c < 2 ? std::optional<int64_t>(0) : c == 2 ? std::optional<int64_t>(-1) : std::nullopt;
      if (inner && g.p.inputs[i].shape.empty() && v && *v == -1) v = 0;
      d.push_back(v);
      any |= v.has_value();
    }
    if (!any) d[0] = 0;
    return d;
  };
  g.p.in_dims = dims_for(false);
  g.p.nested = g.pick(5) == 0;
  const int64_t batches[] = {0, 1, 2, 3, 5, 16, 17, 33};
  g.p.batch = g.p.nested ? 1 + g.pick(4) : batches[g.pick(8)];
  if (g.p.nested) {
    g.p.inner_in_dims = dims_for(true);
    g.p.inner_batch = 1 + g.pick(5);
  }
  g.p.chunk = g.pick(3) == 0 && g.p.batch > 1 ? 1 + g.pick(g.p.batch) : 0;
  g.p.threads = g.p.chunk ? 2 : 0;
  // Outputs that no mapped input reaches: every other one, by a draw, returned unbatched.
  std::vector<bool> mapped(g.vals.size());
  for (size_t i = 0; i < g.p.inputs.size(); ++i) mapped[i] = g.p.in_dims[i].has_value();
  for (size_t i = 0; i < g.p.steps.size(); ++i)
    for (int a : g.p.steps[i].args) mapped[g.p.inputs.size() + i] = mapped[g.p.inputs.size() + i] || mapped[a];
  for (int o : g.p.outputs) g.p.unbatched_outputs.push_back(!g.p.nested && !mapped[o] && g.pick(2) == 0);
  return g.p;
}

std::vector<Tensor> Program::run(const std::vector<Tensor>& in) const {
  std::vector<Tensor> v = in;
  for (const Step& s : steps) v.push_back(apply_step(s, v));
  std::vector<Tensor> out;
  for (int o : outputs) out.push_back(v[o]);
  return out;
}

std::string Program::describe() const {
  std::string r = fmt::format("program {} (batch {}{}, chunk {}, threads {}):\n", seed, batch,
                              nested ? fmt::format(" x inner {}", inner_batch) : "", chunk, threads);
  auto dim = [](const std::optional<int64_t>& d) { return d ? std::to_string(*d) : std::string("none"); };
  for (size_t i = 0; i < inputs.size(); ++i)
    r += fmt::format("  v{} = input {}{}{} in_dim {}{}\n", i, jit::dtype_name(inputs[i].dtype),
                     fmt::format("[{}]", fmt::join(inputs[i].shape, ",")),
                     inputs[i].index_bound ? fmt::format(" (index < {})", inputs[i].index_bound) : "",
                     dim(in_dims[i]), nested ? ", inner " + dim(inner_in_dims[i]) : "");
  for (size_t i = 0; i < steps.size(); ++i)
    r += fmt::format("  v{} = {}[{}]({})\n", inputs.size() + i, kKindNames[steps[i].kind],
                     fmt::join(steps[i].ints, ","), fmt::join(steps[i].args, ", "));
  r += fmt::format("  outputs {}\n", fmt::join(outputs, ", "));
  for (size_t k = 0; k < unbatched_outputs.size(); ++k)
    if (unbatched_outputs[k]) r += fmt::format("  output {} unbatched (out_dims none)\n", k);
  return r;
}

std::vector<Tensor> batch_inputs(const Program& p) {
  std::mt19937_64 rng(p.seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<Tensor> out;
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    jit::Shape s = p.inputs[i].shape;
    auto insert = [&](const std::optional<int64_t>& d, int64_t n) {
      if (!d) return;
      int64_t at = *d < 0 ? static_cast<int64_t>(s.size()) + 1 + *d : *d;
      s.insert(s.begin() + at, n);
    };
    if (p.nested) insert(p.inner_in_dims[i], p.inner_batch);
    insert(p.in_dims[i], p.batch);
    out.push_back(p.inputs[i].index_bound
                      ? jit::cast(jit::floor(jit::rand(s, rng()) * double(p.inputs[i].index_bound)), jit::DType::i64)
                      : jit::randn(s, rng()));
  }
  return out;
}

}  // namespace fuzz
