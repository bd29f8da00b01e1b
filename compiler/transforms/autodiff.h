// transforms/autodiff.h: reverse and forward mode differentiation of IR functions.
#pragma once

#include <vector>

#include "ir/ir.h"

namespace jit::ir {

struct VjpSpec {
  std::vector<int> wrt;         // the parameters to differentiate with respect to
  std::vector<int> cotangents;  // per output: the parameter holding its cotangent, or -1 for a
                                // scalar output seeded with 1 (a gradient)
  bool keep_outputs = false;    // also return f's outputs, before the gradients
};

// Reverse mode. The result has f's parameters and returns [f's outputs,] then the gradient of
// sum(output_i * cotangent_i) with respect to each `wrt` parameter.
//   1. f is replayed node by node into a new trace.
//   2. Walking the nodes backwards, each op's VJP rule from the op table turns the cotangent of
//      its result into cotangents of its operands; contributions to one value add up.
//   3. Non-float values carry no gradient; an unreached parameter gets zeros.
Function vjp(const Function& f, const VjpSpec& spec, std::string_view context = "grad");

struct JvpSpec {
  std::vector<int> wrt;       // the parameters that carry a tangent
  std::vector<int> tangents;  // per wrt: the parameter holding its tangent
};

// Forward mode. The result has f's parameters and returns f's outputs, then their tangents.
// Each op's JVP rule pushes its operands' tangents forward as f is replayed.
Function jvp(const Function& f, const JvpSpec& spec, std::string_view context = "jvp");

}  // namespace jit::ir
