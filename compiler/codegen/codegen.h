// codegen/codegen.h: a batched function and its schedule as an LLVM module.
#pragma once

#include <string>
#include <vector>

#include "codegen/schedule.h"
#include "codegen/target.h"
#include "ir/ir.h"

namespace llvm {
class Module;
}

namespace jit::cg {

// Emits `<name>_prologue(KernelArgs*)`, which computes the hoisted values once per call (only
// when the schedule hoists something), `<name>_fixed(KernelArgs*)`, which computes the fixed
// ones (only when it fixes some: schedule()'s constant_captures), and `<name>_body(KernelArgs*, i64
// begin, i64 end)`, which computes samples [begin, end).
// `contiguous` says, per parameter then output, whether its memory is row-major (so strides are
// known when compiling); the others are read through runtime strides.
void emit_module(const ir::Function& f, const Schedule& s, const TargetInfo& t,
                 const std::vector<bool>& contiguous, const std::string& name, llvm::Module& m);

}  // namespace jit::cg
