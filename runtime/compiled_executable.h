// runtime/compiled_executable.h: a batched function compiled by the LLVM backend.
#pragma once

#include "codegen/schedule.h"
#include "runtime/executable.h"

namespace jit::rt {

struct KernelFns {
  void (*prologue)(void* args) = nullptr;  // none when nothing is hoisted
  void (*body)(void* args, int64_t begin, int64_t end) = nullptr;
};

std::unique_ptr<Executable> make_compiled_executable(const ir::Function& batched,
                                                     const cg::Schedule& s, KernelFns fns);

}  // namespace jit::rt
