// transforms/simplify.h: the cleanup pass after vmap (and autodiff).
#pragma once

#include "ir/ir.h"

namespace jit::ir {

// 1. Rebuilds the function through the hash-consing builder: identical nodes merge (CSE).
// 2. Drops nodes no output depends on (DCE); parameters stay, the signature is unchanged.
// 3. Folds nodes whose operands are all scalar constants, with the op's reference kernel.
// 4. Applies identities that are exact in IEEE arithmetic (x * 1, x - 0, x + -0.0, x / 1,
//    neg(neg(x)), a permute of a permute, a reshape of a reshape, no-op layout ops, where(c, x, x)).
// 5. Over diagonal matrices (below), keeps a product's diagonal and turns a contraction into a
//    scaling.
Function simplify(const Function& f);

// The pad that makes diag(d) of a vector d[n]: reshape(pad(d, these attrs), [n, n]) is the form
// of a diagonal matrix the simplifier recognises (Jacobians build their identity basis so).
Attrs diagonal_pad_attrs(int64_t n);

}  // namespace jit::ir
