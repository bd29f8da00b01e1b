// runtime/interp_executable.cpp: batched functions run by the reference interpreter.
#include "frontend/views.h"
#include "interp/interpreter.h"
#include "runtime/executable.h"

namespace jit::rt {

int64_t dyn_dim(const ir::Type& t) {
  for (int64_t i = 0; i < t.rank(); ++i)
    if (t.shape[i] == ir::kDyn) return i;
  return -1;
}

namespace {

class InterpExecutable : public Executable {
 public:
  explicit InterpExecutable(ir::Function f) : f_(std::move(f)) {}

  void run(std::span<const Tensor> args, std::span<const Tensor> captures,
           std::span<const Tensor> outputs, int64_t batch, const RunOptions& o) const override {
    std::vector<Tensor> inputs(args.begin(), args.end());
    inputs.insert(inputs.end(), captures.begin(), captures.end());
    int64_t chunk = o.chunk > 0 ? o.chunk : std::max<int64_t>(batch, 1);
    if (batch == 0) run_range(inputs, outputs, 0, 0, o.ctx);
    for (int64_t b = 0; b < batch; b += chunk)
      run_range(inputs, outputs, b, std::min(batch, b + chunk), o.ctx);
  }

 private:
  void run_range(std::span<const Tensor> inputs, std::span<const Tensor> outputs, int64_t begin,
                 int64_t end, const ir::KernelCtx& ctx) const {
    std::vector<Tensor> in;
    for (size_t i = 0; i < inputs.size(); ++i) {
      int64_t d = dyn_dim(f_.params[i].type);
      in.push_back(d < 0 ? inputs[i] : detail::narrow_view(inputs[i], d, begin, end - begin));
    }
    ir::KernelCtx c = ctx;
    c.batch_begin = begin;
    std::vector<Tensor> res = ir::interpret(f_, in, c);
    for (size_t i = 0; i < outputs.size(); ++i) {
      int64_t d = dyn_dim(f_.type(f_.outputs[i]));
      if (d >= 0)
        detail::copy_into(detail::narrow_view(outputs[i], d, begin, end - begin), res[i]);
      else if (begin == 0)
        detail::copy_into(outputs[i], res[i]);
    }
  }

  ir::Function f_;
};

}  // namespace

std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& batched) {
  return std::make_unique<InterpExecutable>(batched);
}

}  // namespace jit::rt
