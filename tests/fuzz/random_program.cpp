// tests/fuzz/random_program.cpp: the random program generator and the differential check.
#include "random_program.h"

#include <fmt/format.h>

#include "ir/text.h"
#include "trace/trace.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fuzz {
namespace {

constexpr size_t kMaxInputs = 12;  // what call() passes as separate arguments

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

namespace {

// Calls a transformed function with the inputs as separate arguments.
template <class T>
std::vector<Tensor> call(const T& f, const std::vector<Tensor>& x) {
  switch (x.size()) {
    case 1: return f(x[0]);
    case 2: return f(x[0], x[1]);
    case 3: return f(x[0], x[1], x[2]);
    case 4: return f(x[0], x[1], x[2], x[3]);
    case 5: return f(x[0], x[1], x[2], x[3], x[4]);
    case 6: return f(x[0], x[1], x[2], x[3], x[4], x[5]);
    case 7: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
    case 8: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
    case 9: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8]);
    case 10: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9]);
    case 11: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10]);
    case 12: return f(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11]);
    default: throw std::logic_error(fmt::format("a program of {} inputs: at most {}", x.size(), kMaxInputs));
  }
}

std::vector<Tensor> sample(const std::vector<Tensor>& x, const std::vector<std::optional<int64_t>>& dims,
                           int64_t b) {
  std::vector<Tensor> r;
  for (size_t i = 0; i < x.size(); ++i) r.push_back(dims[i] ? jit::select(x[i], *dims[i], b) : x[i]);
  return r;
}

// The reference: f on every sample, eagerly (the interpreter's kernels), stacked.
std::vector<Tensor> loop(const Program& p, const std::vector<Tensor>& x) {
  auto one = [&](const std::vector<Tensor>& in, int64_t n, const std::vector<std::optional<int64_t>>& dims,
                 auto&& inner) {
    std::vector<std::vector<Tensor>> per;
    for (int64_t b = 0; b < n; ++b) per.push_back(inner(sample(in, dims, b)));
    return per;
  };
  auto stack = [&](const std::vector<std::vector<Tensor>>& per, const std::vector<Tensor>& shapes_of) {
    std::vector<Tensor> out;
    for (size_t k = 0; k < shapes_of.size(); ++k) {
      if (per.empty()) {
        jit::Shape s = shapes_of[k].shape();
        s.insert(s.begin(), 0);
        out.push_back(jit::zeros(s, shapes_of[k].dtype()));
        continue;
      }
      std::vector<Tensor> parts;
      for (const auto& o : per) parts.push_back(o[k]);
      out.push_back(jit::stack(parts, 0));
    }
    return out;
  };
  // Output shapes for an empty batch: one sample of zeros.
  auto example = [&](const std::vector<std::optional<int64_t>>& dims, const std::vector<Tensor>& in,
                     int64_t n) {
    std::vector<Tensor> z;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!dims[i]) {
        z.push_back(in[i]);
        continue;
      }
      jit::Shape s = in[i].shape();
      int64_t at = *dims[i] < 0 ? *dims[i] + static_cast<int64_t>(s.size()) : *dims[i];
      s.erase(s.begin() + at);
      z.push_back(jit::zeros(s, in[i].dtype()));
    }
    (void)n;
    return z;
  };
  if (!p.nested) {
    auto per = one(x, p.batch, p.in_dims, [&](const std::vector<Tensor>& s) { return p.run(s); });
    std::vector<Tensor> shapes = p.run(example(p.in_dims, x, p.batch)), out = stack(per, shapes);
    // An unbatched output is the same for every sample: no mapped input reaches it.
    for (size_t k = 0; k < out.size(); ++k)
      if (p.unbatched_outputs[k]) out[k] = shapes[k];
    return out;
  }
  auto inner = [&](const std::vector<Tensor>& s) {
    auto per = one(s, p.inner_batch, p.inner_in_dims, [&](const std::vector<Tensor>& t) { return p.run(t); });
    return stack(per, p.run(example(p.inner_in_dims, s, p.inner_batch)));
  };
  auto per = one(x, p.batch, p.in_dims, inner);
  return stack(per, inner(example(p.in_dims, x, p.batch)));
}

std::vector<jit::Dim> dims_of(const std::vector<std::optional<int64_t>>& d) {
  std::vector<jit::Dim> r;
  for (const auto& x : d) r.push_back(x ? jit::Dim(*x) : jit::Dim(jit::none));
  return r;
}

// out_dims: 0, or none for the outputs returned unbatched.
jit::DimSpec out_dims_of(const Program& p) {
  std::vector<jit::Dim> r;
  for (bool u : p.unbatched_outputs) r.push_back(u ? jit::Dim(jit::none) : jit::Dim(0));
  return r;
}

// Unfused, also without contraction (fp_contract false: op-by-op rounding, as the reference's).
std::vector<Tensor> compiled(const Program& p, const std::vector<Tensor>& x, bool fuse, jit::Tiering tiering) {
  auto f = [&p](const auto&... xs) { return p.run({xs...}); };
  jit::VmapOptions o{.chunk_size = p.chunk, .threads = p.threads, .name = fmt::format("program{}", p.seed),
                     .fuse = fuse, .tiering = tiering, .fp_contract = fuse};
  if (!p.nested) return call(jit::vmap(f, dims_of(p.in_dims), out_dims_of(p), o), x);
  auto inner = jit::vmap(f, dims_of(p.inner_in_dims), 0, o);
  return call(jit::vmap(inner, dims_of(p.in_dims), 0, o), x);
}

// The program with its unmapped inputs captured instead of passed (all of them, or every other
// one, by the seed: the others stay unmapped arguments, whose work is per call), declared
// constant (VmapOptions::constant_captures): the first call computes what the captures alone
// determine, with the quick tier's kernels (Tiering::Background), and the second, after the
// optimized ones are installed, reuses it, with `x2`'s values for the passed inputs; a third
// call passes `x`'s again. The three calls' outputs.
std::vector<bool> captured_inputs(const Program& p) {
  std::vector<bool> captured(p.inputs.size());
  for (size_t i = 0, k = 0; i < captured.size(); ++i)
    if (!p.in_dims[i]) captured[i] = p.seed % 2 == 0 || k++ % 2 == 0;
  return captured;
}

std::vector<std::vector<Tensor>> captured_calls(const Program& p, const std::vector<Tensor>& x,
                                                const std::vector<Tensor>& x2) {
  std::vector<bool> captured = captured_inputs(p);
  std::vector<Tensor> passed, passed2;
  std::vector<std::optional<int64_t>> dims;
  for (size_t i = 0; i < x.size(); ++i)
    if (!captured[i]) passed.push_back(x[i]), passed2.push_back(x2[i]), dims.push_back(p.in_dims[i]);
  auto f = [&p, &x, &captured](const auto&... xs) {
    std::vector<Tensor> given{xs...}, all;
    for (size_t i = 0, k = 0; i < x.size(); ++i) all.push_back(captured[i] ? x[i] : given[k++]);
    return p.run(all);
  };
  jit::VmapOptions o{.chunk_size = p.chunk, .threads = p.threads, .name = fmt::format("program{}", p.seed),
                     .tiering = jit::Tiering::Background, .constant_captures = true};
  auto v = jit::vmap(f, dims_of(dims), out_dims_of(p), o);
  std::vector<Tensor> first = call(v, passed);
  jit::wait_for_compiles();
  std::vector<Tensor> second = call(v, passed2);
  return {first, second, call(v, passed)};
}

}  // namespace

// The per-sample function's traced IR, for a failure report.
std::string traced_ir(const Program& p) {
  try {
    auto tr = std::make_shared<jit::detail::Trace>(fmt::format("program{}", p.seed));
    std::vector<Tensor> in;
    for (const InputSpec& s : p.inputs) in.push_back(tr->input({s.dtype, s.shape}));
    std::vector<Tensor> outs;
    {
      jit::detail::TraceScope scope(tr);
      outs = p.run(in);
    }
    return jit::ir::print(tr->finish(outs));
  } catch (const jit::Error& e) {
    return std::string("(tracing failed: ") + e.what() + ")\n";
  }
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isnan(x[i]) != std::isnan(y[i]) || (!std::isnan(x[i]) && (x[i] != y[i] || std::signbit(x[i]) != std::signbit(y[i]))))
      return false;
  return true;
}

namespace {

// Whether a and b agree within rtol, atol (both 0: bit for bit, as same_bits).
bool agree(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (rtol == 0 && atol == 0) return same_bits(a, b);
  return a.shape() == b.shape() && jit::allclose(a, b, rtol, atol, true);
}

// The first element where they do not, in full (printed tensors elide their middle).
std::string first_difference(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return "";
  std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i)
    if (!agree(jit::tensor({x[i]}), jit::tensor({y[i]}), rtol, atol))
      return fmt::format("first difference at flat index {}: {:.9g} and {:.9g}\n", i, x[i], y[i]);
  return "";
}

// The tolerance of a comparison with the reference: its rtol, and atol relative to the
// largest finite magnitude of `want` (at least 1).
std::pair<double, double> tolerance(const Tensor& want) {
  double scale = 1;
  for (double v : want.to_vector())
    if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
  return {2e-3, 2e-4 * scale};
}

}  // namespace

std::string check(const Program& p) {
  std::vector<Tensor> x = batch_inputs(p);
  std::vector<Tensor> want;
  try {
    want = loop(p, x);
  } catch (const jit::Error& e) {
    return fmt::format("{}the reference threw (a generator bug): {}\n", p.describe(), e.what());
  }
  for (bool fuse : {true, false}) {
    std::vector<Tensor> got;
    try {
      got = compiled(p, x, fuse, fuse ? jit::Tiering::Optimized : jit::Tiering::Quick);
    } catch (const jit::Error& e) {
      return fmt::format("{}{}compiled ({}) threw: {}\n", p.describe(), traced_ir(p),
                         fuse ? "fused" : "unfused, uncontracted", e.what());
    }
    if (fuse) {
      // The quick tier of the same kernel computes the same bits (Tiering).
      std::vector<Tensor> quick;
      try {
        quick = compiled(p, x, true, jit::Tiering::Quick);
      } catch (const jit::Error& e) {
        return fmt::format("{}{}compiled (quick tier) threw: {}\n", p.describe(), traced_ir(p), e.what());
      }
      for (size_t k = 0; k < quick.size(); ++k)
        if (!same_bits(quick[k], got[k]))
          return fmt::format("{}{}output {}: the quick and optimized tiers differ:\n{}quick: {}\noptimized: {}\n",
                             p.describe(), traced_ir(p), k, first_difference(quick[k], got[k], 0, 0),
                             quick[k].to_string(), got[k].to_string());
      // Unmapped inputs captured as constants. The option changes what is stored (a value the
      // captures determine is computed once, not inline in per-call work), and with it the
      // order of some sums: the default's results within the reference's tolerance, and the
      // same bits from the quick tier's first call (which computes the fixed values) and the
      // optimized tier's calls that reuse them.
      if (!p.nested && std::any_of(p.in_dims.begin(), p.in_dims.end(), [](const auto& d) { return !d; })) {
        // The second call passes other values for the unmapped float inputs not captured:
        // work they determine must not have been kept from the first call.
        std::vector<Tensor> x2 = x;
        std::vector<bool> captured = captured_inputs(p);
        for (size_t i = 0; i < x.size(); ++i)
          if (!p.in_dims[i] && !captured[i] && jit::is_float(x[i].dtype())) x2[i] = x[i] * 0.5 + 0.25;
        std::vector<std::vector<Tensor>> calls;
        std::vector<Tensor> got2;
        try {
          calls = captured_calls(p, x, x2);
          got2 = compiled(p, x2, true, jit::Tiering::Optimized);
        } catch (const jit::Error& e) {
          return fmt::format("{}{}compiled (constant captures) threw: {}\n", p.describe(), traced_ir(p), e.what());
        }
        for (int c = 0; c < 3; ++c)
          for (size_t k = 0; k < got.size(); ++k) {
            const Tensor& other = c == 0 ? got[k] : c == 1 ? got2[k] : calls[0][k];
            auto [rtol, atol] = c == 2 ? std::pair<double, double>{0, 0} : tolerance(other);
            if (!agree(calls[c][k], other, rtol, atol))
              return fmt::format("{}{}output {}: call {} with the unmapped inputs as constant captures differs from {}:\n"
                                 "{}captured: {}\nother: {}\n", p.describe(), traced_ir(p), k, c + 1,
                                 c == 2 ? "call 1's bits (the same inputs)" : "the default's",
                                 first_difference(calls[c][k], other, rtol, atol), calls[c][k].to_string(),
                                 other.to_string());
          }
      }
    }
    for (size_t k = 0; k < want.size(); ++k) {
      auto [rtol, atol] = tolerance(want[k]);
      if (!agree(got[k], want[k], rtol, atol))
        return fmt::format("{}{}output {} differs ({}):\n{}compiled: {}\nreference: {}\n", p.describe(), traced_ir(p), k,
                           fuse ? "fused" : "unfused, uncontracted",
                           first_difference(got[k], want[k], rtol, atol), got[k].to_string(), want[k].to_string());
    }
  }
  return {};
}

}  // namespace fuzz
