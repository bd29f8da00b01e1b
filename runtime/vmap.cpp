// runtime/vmap.cpp: jit::vmap and jit::compile on top of the traced-transform machinery. vmap
// checks in_dims against the arguments and batches the traced function; compile maps nothing.
#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "runtime/traced_transform.h"

namespace jit {
namespace {

// "f32[3], f32[]": the per-sample types of a traced function's outputs, for messages.
std::string output_types(const ir::Function& f) {
  std::string s;
  for (size_t i = 0; i < f.outputs.size(); ++i)
    s += (i ? ", " : "") + ir::to_string(f.type(f.outputs[i]));
  return s;
}

class VmapState : public rt::TracedTransform {
 public:
  VmapState(DimSpec in, DimSpec out, VmapOptions o)
      : TracedTransform(fmt::format("vmap({})", o.name.empty() ? "function" : o.name), o),
        in_(std::move(in)), out_(std::move(out)) {}

 protected:
  // in_dims per tensor argument; the batch size they agree on.
  rt::Resolved resolve(const detail::CallArgs& args) const override {
    const std::string& ctx = context();
    size_t n = args.is_tensor.size();
    auto arguments = [&] {  // "f32[3,4], not a tensor", for messages
      std::string s;
      for (size_t i = 0, t = 0; i < n; ++i)
        s += (i ? ", " : "") +
             (args.is_tensor[i] ? detail::describe(*args.tensors[t++]) : "not a tensor");
      return s;
    };
    if (!in_.is_uniform() && in_.each().size() != n)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: in_dims has {} entries but the function was called with {} "
                              "argument{} ({})", ctx, in_.each().size(), n, n == 1 ? "" : "s",
                              arguments()));
    rt::Resolved r;
    std::string sizes;
    int64_t batch = -1;
    bool mismatch = false;
    for (size_t i = 0, t = 0; i < n; ++i) {
      std::optional<int64_t> d = in_.is_uniform() ? in_.uniform() : in_.each()[i].value();
      if (!args.is_tensor[i]) {
        if (d && !in_.is_uniform())
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: in_dims[{}] = {} but argument {} is not a tensor; only "
                                  "tensors can be mapped (use jit::none)", ctx, i, *d, i));
        continue;
      }
      const Tensor& x = *args.tensors[t++];
      if (!x.defined())
        throw Error(ErrorKind::InvalidArgument, fmt::format("{}: argument {} is an undefined tensor", ctx, i));
      if (d) {
        int64_t rank = x.dim();
        if (rank == 0 || *d < -rank || *d >= rank)
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: in_dims[{}] = {} is out of range for argument {} of shape "
                                  "{} (rank {}{})", ctx, i, *d, i, detail::describe(x), rank,
                                  rank ? fmt::format(", so dims in [{}, {}]", -rank, rank - 1)
                                       : ": a scalar has no dim to map over"));
        d = *d < 0 ? *d + rank : *d;
        int64_t size = x.shape()[*d];
        sizes += fmt::format("{}argument {} ({}, in_dim {}) has {}", sizes.empty() ? "" : ", ", i,
                             detail::describe(x), *d, size);
        if (batch >= 0 && size != batch) mismatch = true;
        batch = batch < 0 ? size : batch;
      }
      r.in_dims.push_back(d.value_or(-1));
    }
    if (batch < 0)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: no argument is mapped (in_dims are all none); at least one "
                              "tensor argument must have a batch dim (arguments: {})", ctx,
                              arguments()));
    if (mismatch)
      throw Error(ErrorKind::BatchSize,
                  fmt::format("{}: mapped arguments have different batch sizes: {}", ctx, sizes));
    r.batch = batch;
    return r;
  }

  rt::Prepared prepare(ir::Function f, const detail::CallArgs& args, const rt::Resolved& r,
                       int64_t batch) const override {
    ir::VmapSpec spec;
    spec.context = context();
    spec.batch_size = batch;
    Randomness rnd = options().randomness;
    spec.randomness = rnd == Randomness::Error  ? ir::RandomMode::Error
                      : rnd == Randomness::Same ? ir::RandomMode::Same
                                                : ir::RandomMode::Different;
    for (size_t i = 0; i < f.params.size(); ++i) {
      int64_t d = i < args.tensors.size() ? r.in_dims[i] : -1;
      spec.in_dims.push_back(d >= 0 ? std::optional<int64_t>(d) : std::nullopt);
    }
    size_t nout = f.outputs.size();
    if (!out_.is_uniform() && out_.each().size() != nout)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: out_dims has {} entries but the function returns {} output{} "
                              "({} per sample)", context(), out_.each().size(), nout,
                              nout == 1 ? "" : "s", output_types(f)));
    for (size_t i = 0; i < nout; ++i)
      spec.out_dims.push_back(out_.is_uniform() ? out_.uniform() : out_.each()[i].value());
    spec.allow_fallback = options().per_sample_fallback;
    spec.fallbacks = fallback_counter();
    bool fallback = batch == ir::kDyn && ir::needs_fallback(f, spec);
    if (fallback && !spec.allow_fallback) ir::vmap(f, spec);  // throws, naming the op
    rt::Prepared p{std::move(f), std::move(spec), {}, fallback};
    return p;
  }

 private:
  DimSpec in_, out_;
};

class CompileState : public rt::TracedTransform {
 public:
  explicit CompileState(VmapOptions o)
      : TracedTransform(fmt::format("compile({})", o.name.empty() ? "function" : o.name), o) {}

 protected:
  rt::Prepared prepare(ir::Function f, const detail::CallArgs&, const rt::Resolved&,
                       int64_t) const override {
    ir::VmapSpec spec = unmapped_spec(f);
    return {std::move(f), std::move(spec)};
  }
};

}  // namespace

namespace detail {

std::shared_ptr<TransformState> make_vmap_state(DimSpec in_dims, DimSpec out_dims, VmapOptions o) {
  return std::make_shared<VmapState>(std::move(in_dims), std::move(out_dims), std::move(o));
}

std::shared_ptr<TransformState> make_compile_state(VmapOptions o) {
  return std::make_shared<CompileState>(std::move(o));
}

}  // namespace detail
}  // namespace jit
