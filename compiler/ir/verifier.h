// ir/verifier.h: the IR's invariants, checked after every pass in tests and debug builds.
#pragma once

#include "ir/ir.h"

namespace jit::ir {

// Throws jit::Error(ErrorKind::Verify) naming the function, the node and the broken invariant:
// operands defined before use, arity, attribute names and kinds, each node's type equal to what
// its op infers, valid outputs, distinct random streams.
void verify(const Function& f);

}  // namespace jit::ir
