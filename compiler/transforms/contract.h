// transforms/contract.h: floating-point contraction, the pass after simplify.
#pragma once

#include "ir/ir.h"

namespace jit::ir {

// a * b + c computed with one rounding: add(mul(a, b), c) and add(c, mul(a, b)) become
// fma(a, b, c), sub(mul(a, b), c) becomes fma(a, b, -c) and sub(c, mul(a, b)) becomes
// fma(-a, b, c) or fma(a, -b, c) (negation is exact: the same single rounding of a b - c, of
// c - a b), for f32 and f64 where the product has no other use and is not broadcast by the add
// (which would compute it again per element). A negated scalar constant is a constant; any other
// negated value is per sample (where the function has a batch dim), so the negation stays in the
// fma's fused group: a b - c with c computed once per call stays two ops. This is XLA's CPU
// policy (its LLVM target always allows FMA fusion) and GCC's default for C++ in GNU mode: one
// rounding fewer, each op at least as accurate, one instruction and its latency fewer on FMA
// hardware. Not an identity: the bits may differ from the op-by-op program's
// (VmapOptions::fp_contract false keeps them). Deterministic: the add's first operand is taken
// when both are products.
Function contract_fma(const Function& f);

}  // namespace jit::ir
