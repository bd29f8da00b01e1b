// runtime/engine.h: the process's one ORC LLJIT. It optimizes modules with a lean pipeline (the
// IR arrives vectorized), compiles them for the host CPU and returns function addresses.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "codegen/target.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace jit::rt {

// How hard a module is optimized. Both tiers compute the same bits (see engine.cpp).
enum class Tier {
  Quick,      // an eighth of the compile time, code 2-10x slower: a new kernel's first calls
  Optimized,  // the full pipeline
};

// The machine code of one module added by Engine::add: unmapped, its symbols removed, when the
// last copy goes (after every call that may run it has returned). A copy that outlives the
// engine (a static object destroyed at exit after it) leaves the code as it is.
using CodeHandle = std::shared_ptr<const void>;

struct AddedModule {
  std::vector<void*> addresses;  // of the requested symbols, in order
  CodeHandle code;               // keeps them
  std::string optimized_ir;      // when text was requested
  std::string assembly;          // when text was requested
  double optimize_ms = 0;
  double codegen_ms = 0;         // machine code generation and linking
};

// Whether the host CPU has FMA (the engine's target().fma), known without creating the engine.
bool host_has_fma();

class Engine {
 public:
  // The process-wide engine, created on first use. Throws jit::Error(Compile) if LLVM cannot
  // target the host.
  static Engine& instance();

  const cg::TargetInfo& target() const;
  // A name no other module of this process uses, for a kernel's symbols.
  std::string unique_name(const std::string& base);
  // Gives the module the JIT's triple and data layout (call before emitting into it).
  void prepare(llvm::Module& m) const;
  // Optimizes, compiles and links a module. Thread-safe; compiles of different modules run in
  // parallel.
  AddedModule add(std::unique_ptr<llvm::LLVMContext> ctx, std::unique_ptr<llvm::Module> m,
                  const std::vector<std::string>& symbols, bool want_text, Tier tier = Tier::Optimized);
  // Runs a job on the engine's background thread (started on first use), after the jobs
  // queued before it. A job must catch its own errors. Jobs not started when the engine is
  // destroyed (at exit) are dropped.
  void background(std::function<void()> job);
  // Returns when every job queued so far has run.
  void wait_background();
  // Modules added and not yet freed (their CodeHandles alive).
  int64_t live_modules() const;
  void stop_background();

  ~Engine();

 private:
  Engine();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::rt
