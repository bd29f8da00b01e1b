// interp/interpreter.cpp: the reference interpreter.
#include "interp/interpreter.h"

#include <fmt/format.h>

#include "jit/error.h"

namespace jit::ir {

int64_t bind_batch(const Function& f, std::span<const Tensor> inputs) {
  if (inputs.size() != f.params.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("function '{}' takes {} inputs, got {}", f.name, f.params.size(),
                            inputs.size()));
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& want = f.params[i].type.shape;
    const Tensor& t = inputs[i];
    bool ok = t.dtype() == f.params[i].type.dtype && t.dim() == static_cast<int64_t>(want.size());
    for (size_t d = 0; ok && d < want.size(); ++d) {
      if (want[d] != kDyn) {
        ok = t.shape()[d] == want[d];
      } else if (batch < 0) {
        batch = t.shape()[d];
      } else {
        ok = t.shape()[d] == batch;
      }
    }
    if (!ok)
      throw Error(ErrorKind::Shape,
                  fmt::format("function '{}': input {} is {}{} but the parameter is {}{}", f.name, i,
                              dtype_name(t.dtype()), shape_string(t.shape()),
                              to_string(f.params[i].type),
                              batch >= 0 ? fmt::format(" (batch size {})", batch) : ""));
  }
  return batch < 0 ? 0 : batch;
}

Tensor run_kernel(const Node& n, std::span<const Tensor> operands, const Shape& out_shape,
                  const KernelCtx& ctx) {
  std::vector<Tensor> in;
  in.reserve(operands.size());
  for (const Tensor& t : operands) in.push_back(t.contiguous());
  Tensor out = empty(out_shape, n.type.dtype);
  op_info(n.op).kernel(n, in, out, ctx);
  return out;
}

std::vector<Tensor> interpret(const Function& f, std::span<const Tensor> inputs,
                              const KernelCtx& ctx) {
  int64_t batch = bind_batch(f, inputs);
  std::vector<Tensor> values(inputs.begin(), inputs.end());
  values.reserve(f.num_values());
  for (const Node& n : f.nodes) {
    std::vector<Tensor> operands;
    for (ValueId v : n.operands) operands.push_back(values[v]);
    values.push_back(run_kernel(n, operands, resolve(n.type.shape, batch), ctx));
  }
  std::vector<Tensor> outs;
  for (ValueId v : f.outputs) outs.push_back(f.is_param(v) ? values[v].clone() : values[v]);
  return outs;
}

}  // namespace jit::ir
