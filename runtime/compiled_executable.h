// runtime/compiled_executable.h: a batched function compiled by the LLVM backend.
#pragma once

#include <atomic>
#include <memory>

#include "codegen/schedule.h"
#include "runtime/engine.h"
#include "runtime/executable.h"

namespace jit::rt {

struct KernelFns {
  void (*prologue)(void* args) = nullptr;  // none when nothing is hoisted
  void (*fixed)(void* args) = nullptr;     // none when nothing is fixed (Schedule::fixed)
  void (*body)(void* args, int64_t begin, int64_t end) = nullptr;
  CodeHandle code;                         // their machine code, freed with the last copy
};

// The kernels an executable calls: its first compile's, replaced once by the optimized tier's
// when a background compile installs them (calls in flight finish on the ones they loaded: both
// stay mapped as long as the slot, freed with it when the executable goes).
class KernelSlot {
 public:
  KernelSlot(KernelFns first, bool first_optimized) : first_(first), first_optimized_(first_optimized) {}
  const KernelFns& current() const { return *current_.load(std::memory_order_acquire); }
  bool optimized() const { return first_optimized_ || &current() == &second_; }
  void install_optimized(KernelFns fns) {
    second_ = fns;
    current_.store(&second_, std::memory_order_release);
  }

 private:
  KernelFns first_, second_;
  const bool first_optimized_;
  std::atomic<const KernelFns*> current_{&first_};
};

// A schedule with fixed groups (cg::schedule's constant_captures) computes them on its first call.
std::unique_ptr<Executable> make_compiled_executable(const ir::Function& batched, const cg::Schedule& s,
                                                     std::shared_ptr<const KernelSlot> kernels);

}  // namespace jit::rt
