// runtime/autodiff.cpp: jit::grad, value_and_grad, jacrev, jacfwd, vjp and jvp as compiled
// transforms: the traced function goes through the autodiff passes (and, for Jacobians, a vmap
// over a basis), and the result is cached and compiled like any other transform.
#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "jit/grad.h"
#include "jit/ops.h"
#include "runtime/traced_transform.h"
#include "trace/trace.h"
#include "transforms/autodiff.h"
#include "transforms/simplify.h"

namespace jit {
namespace {

using detail::AdKind;

const char* kind_name(AdKind k) {
  switch (k) {
    case AdKind::Grad: return "grad";
    case AdKind::ValueAndGrad: return "value_and_grad";
    case AdKind::JacRev: return "jacrev";
    case AdKind::JacFwd: return "jacfwd";
    case AdKind::Vjp: return "vjp";
    case AdKind::Jvp: return "jvp";
  }
  return "?";
}

// f with one more (non-captured) parameter of type t, appended last.
ir::Function with_param(const ir::Function& f, const ir::Type& t) {
  ir::Function g = f;
  int32_t np = static_cast<int32_t>(g.params.size());
  for (ir::Node& n : g.nodes)
    for (ir::ValueId& v : n.operands)
      if (v >= np) ++v;
  for (ir::ValueId& v : g.outputs)
    if (v >= np) ++v;
  g.params.push_back({t, false});
  return g;
}

class AdState : public rt::TracedTransform {
 public:
  AdState(AdKind kind, std::vector<int> argnums, int count, GradOptions o)
      : TracedTransform(fmt::format("{}({})", kind_name(kind), o.name.empty() ? "function" : o.name),
                        VmapOptions{.backend = o.backend, .name = o.name, .fp_contract = o.fp_contract}),
        kind_(kind), argnums_(std::move(argnums)), count_(count) {
    if ((kind == AdKind::Vjp || kind == AdKind::Jvp) ? count_ < 1 : argnums_.empty())
      throw Error(ErrorKind::InvalidArgument, fmt::format("{}: nothing to differentiate", context()));
  }

 protected:
  rt::Prepared prepare(ir::Function f, const detail::CallArgs& args, const rt::Resolved&,
                       int64_t) const override {
    // The tensor index of each argument position.
    std::vector<int> tensor_at(args.is_tensor.size(), -1);
    for (size_t i = 0, t = 0; i < args.is_tensor.size(); ++i)
      if (args.is_tensor[i]) tensor_at[i] = static_cast<int>(t++);
    auto wrt = [&](int argnum) {
      int n = static_cast<int>(args.is_tensor.size());
      if (argnum < -n || argnum >= n)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: argnum {} is out of range for a call with {} arguments",
                                context(), argnum, n));
      int a = argnum < 0 ? argnum + n : argnum;
      if (tensor_at[a] < 0)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: argument {} is not a tensor and cannot be differentiated",
                                context(), a));
      return tensor_at[a];
    };
    rt::Prepared p;
    switch (kind_) {
      case AdKind::Grad: case AdKind::ValueAndGrad: {
        ir::VjpSpec s;
        for (int a : argnums_) s.wrt.push_back(wrt(a));
        s.cotangents.assign(f.outputs.size(), -1);
        s.keep_outputs = kind_ == AdKind::ValueAndGrad;
        if (f.outputs.size() != 1)
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: the function returns {} outputs; grad needs exactly one scalar",
                                  context(), f.outputs.size()));
        p.f = ir::vjp(f, s, context());
        break;
      }
      case AdKind::Vjp: {
        // Arguments: the primals, then one cotangent per output.
        ir::VjpSpec s;
        for (int a = 0; a < count_; ++a) s.wrt.push_back(wrt(a));
        int ncts = static_cast<int>(args.tensors.size()) - static_cast<int>(s.wrt.size());
        if (ncts != static_cast<int>(f.outputs.size()))
          throw Error(ErrorKind::InvalidArgument,
                      fmt::format("{}: the pullback got {} cotangents for {} outputs", context(),
                                  ncts, f.outputs.size()));
        for (int i = 0; i < ncts; ++i) {
          int c = static_cast<int>(s.wrt.size()) + i;
          const ir::Type &ct = f.params[c].type, &out = f.type(f.outputs[i]);
          if (!(ct == out))
            throw Error(ErrorKind::Shape,
                        fmt::format("{}: cotangent {} is {} but output {} is {}", context(), i,
                                    ir::to_string(ct), i, ir::to_string(out)));
          s.cotangents.push_back(c);
        }
        p.f = ir::vjp(f, s, context());
        break;
      }
      case AdKind::Jvp: {
        ir::JvpSpec s;
        for (int a = 0; a < count_; ++a) {
          int x = wrt(a), t = wrt(count_ + a);
          if (!(f.params[x].type == f.params[t].type))
            throw Error(ErrorKind::Shape,
                        fmt::format("{}: tangent {} is {} but primal {} is {}", context(), a,
                                    ir::to_string(f.params[t].type), a, ir::to_string(f.params[x].type)));
          s.wrt.push_back(x);
          s.tangents.push_back(t);
        }
        p.f = ir::jvp(f, s, context());
        break;
      }
      case AdKind::JacRev: case AdKind::JacFwd:
        p = jacobian(f, wrt(argnums_.at(0)));
        break;
    }
    p.spec = unmapped_spec(p.f);
    return p;
  }

 private:
  // The Jacobian of f's one output y with respect to parameter a: a vmap of the VJP over a basis
  // of y (jacrev) or of the JVP over a basis of the argument (jacfwd), reshaped to
  // [y dims..., argument dims...]. The basis is an identity matrix the function captures.
  rt::Prepared jacobian(const ir::Function& f, int a) const {
    if (f.outputs.size() != 1)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("{}: the function returns {} outputs; a Jacobian needs exactly one",
                              context(), f.outputs.size()));
    const ir::Type& x = f.params[a].type;
    const ir::Type& y = f.type(f.outputs[0]);
    bool rev = kind_ == AdKind::JacRev;
    const ir::Type& seeded = rev ? y : x;  // the basis runs over this one's elements
    int64_t n = ir::checked_numel(seeded.shape);
    int extra = static_cast<int>(f.params.size());  // the seed parameter
    ir::Function g = with_param(f, seeded);
    ir::VmapSpec vs;
    vs.context = context();
    vs.batch_size = n;
    vs.in_dims.assign(g.params.size(), std::nullopt);
    vs.in_dims[extra] = 0;
    if (rev) {
      ir::VjpSpec s{{a}, {extra}, false};
      g = ir::vjp(g, s, context());
      vs.out_dims = {0};
    } else {
      ir::JvpSpec s{{a}, {extra}};
      g = ir::jvp(g, s, context());
      vs.out_dims = {std::nullopt, 0};
    }
    ir::Function batched = ir::vmap(g, vs);
    // The function to compile: its parameters are f's, then the captured basis.
    auto tr = std::make_shared<detail::Trace>(f.name + "_" + kind_name(kind_));
    std::vector<Tensor> in;
    for (const ir::Param& p : f.params) in.push_back(tr->input(p.type, p.captured));
    Shape basis_shape = seeded.shape;
    basis_shape.insert(basis_shape.begin(), n);
    detail::TraceScope scope(tr);
    // The identity as ops (diag of ones, see simplify), not a captured matrix: the simplifier
    // sees it, and contractions with it become scalings.
    Tensor ones = expand(detail::constant(1, seeded.dtype), {n});
    Tensor eye = detail::apply(ir::OpId::Pad, {ones}, ir::diagonal_pad_attrs(n));
    in.push_back(reshape(reshape(eye, {n, n}), basis_shape));
    std::vector<Tensor> outs = tr->inline_function(batched, in);
    Tensor j = outs.back();  // [n, grad or tangent dims...]
    if (!rev) j = movedim(j, 0, -1);  // [y dims..., n]
    Shape js = y.shape;
    js.insert(js.end(), x.shape.begin(), x.shape.end());
    j = reshape(j, js);
    return {tr->finish({j}), {}, tr->captures()};
  }

  AdKind kind_;
  std::vector<int> argnums_;
  int count_;
};

}  // namespace

namespace detail {
std::shared_ptr<TransformState> make_ad_state(AdKind kind, std::vector<int> argnums, int count,
                                              GradOptions o) {
  return std::make_shared<AdState>(kind, std::move(argnums), count, std::move(o));
}
}  // namespace detail
}  // namespace jit
