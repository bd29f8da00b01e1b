// transforms/simplify.h: the cleanup pass after vmap (and autodiff).
#pragma once

#include "ir/ir.h"

namespace jit::ir {

// 1. Rebuilds the function through the hash-consing builder: identical nodes merge (CSE).
// 2. Drops nodes no output depends on (DCE); parameters stay, the signature is unchanged.
// 3. Folds nodes whose operands are all scalar constants, with the op's reference kernel.
// 4. Applies identities that are exact in IEEE arithmetic (x * 1, x - 0, x + -0.0, x / 1,
//    neg(neg(x)), a permute of a permute, a reshape of a reshape, no-op layout ops, where(c, x, x)).
Function simplify(const Function& f);

}  // namespace jit::ir
