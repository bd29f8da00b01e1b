// jit/jit.h: vmapjit, a tracing JIT compiler that vectorizes C++ functions.
//
// Write a function for one sample on jit::Tensor; jit::vmap(f) runs it over a batch as fused SIMD
// machine code. The same function also runs eagerly on concrete tensors.
//
//   jit::Tensor model(const jit::Tensor& x) { return jit::relu(jit::dot(x, weights)); }
//   auto batched = jit::vmap(model);
//   jit::Tensor ys = batched(xs);  // xs: [batch, 64] -> ys: [batch]
//
// Headers: tensor.h (the tensor type and factories), ops.h (operations), vmap.h (jit::vmap,
// jit::compile), grad.h (grad, vjp, jvp, jacrev, jacfwd, hessian), error.h (jit::Error).
#pragma once

#include "jit/dtype.h"
#include "jit/error.h"
#include "jit/ops.h"
#include "jit/tensor.h"
#include "jit/transform.h"
#include "jit/vmap.h"
#include "jit/grad.h"
