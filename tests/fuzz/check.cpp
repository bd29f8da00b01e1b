// tests/fuzz/check.cpp: the differential check of a random program (random_program.h): the
// compiled vmap in every tier and mode against the per-sample reference.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ir/text.h"
#include "random_program.h"
#include "trace/trace.h"

namespace fuzz {

using jit::Tensor;

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
