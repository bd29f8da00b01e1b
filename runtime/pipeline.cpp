// runtime/pipeline.cpp: the compile pipeline.
#include "runtime/pipeline.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>

#include "codegen/codegen.h"
#include "codegen/schedule.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "runtime/compiled_executable.h"
#include "runtime/diagnostics.h"
#include "runtime/engine.h"
#include "transforms/contract.h"
#include "transforms/simplify.h"

namespace jit::rt {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

class Recorder {
 public:
  Recorder(const PipelineOptions& o, std::vector<StageRecord>& out) : o_(o), out_(out) {}

  // Runs one IR step, times it, verifies and records its result.
  template <class F>
  ir::Function step(const char* name, F&& f) {
    auto t0 = Clock::now();
    ir::Function r = f();
    double ms = ms_since(t0);
    if (o_.verify) ir::verify(r);
    out_.push_back({name, o_.keep_text ? ir::print(r) : std::string(), ms});
    return r;
  }
  void record(const char* name, std::string text, double ms) {
    out_.push_back({name, o_.keep_text ? std::move(text) : std::string(), ms});
  }
  bool keep_text() const { return o_.keep_text; }

 private:
  const PipelineOptions& o_;
  std::vector<StageRecord>& out_;
};

// Emits, optimizes and compiles the kernels of a scheduled function at one tier; records the
// llvm, llvm-opt and asm stages when given a recorder.
KernelFns build_kernels(const ir::Function& f, const cg::Schedule& sched, const std::vector<bool>& contiguous,
                        Tier tier, Recorder* rec) {
  Engine& engine = Engine::instance();
  auto t0 = Clock::now();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>(f.name, *ctx);
  engine.prepare(*module);
  std::string name = engine.unique_name("vmapjit_" + f.name);
  cg::TargetInfo target = engine.target();
  target.quick = tier == Tier::Quick;  // less code, the same bits
  cg::emit_module(f, sched, target, contiguous, name, *module);
  bool text = rec && rec->keep_text();
  std::string llvm_text;
  if (text) {
    llvm::raw_string_ostream os(llvm_text);
    module->print(os, nullptr);
  }
  if (rec) rec->record("llvm", std::move(llvm_text), ms_since(t0));

  bool has_prologue = !sched.prologue.empty(), has_fixed = !sched.fixed.empty();
  std::vector<std::string> symbols = {name + "_body"};
  if (has_prologue) symbols.push_back(name + "_prologue");
  if (has_fixed) symbols.push_back(name + "_fixed");
  AddedModule added = engine.add(std::move(ctx), std::move(module), symbols, text, tier);
  if (rec) {
    rec->record("llvm-opt", std::move(added.optimized_ir), added.optimize_ms);
    rec->record("asm", std::move(added.assembly), added.codegen_ms);
  }
  KernelFns fns;
  fns.body = reinterpret_cast<void (*)(void*, int64_t, int64_t)>(added.addresses[0]);
  if (has_prologue) fns.prologue = reinterpret_cast<void (*)(void*)>(added.addresses[1]);
  if (has_fixed) fns.fixed = reinterpret_cast<void (*)(void*)>(added.addresses[has_prologue ? 2 : 1]);
  fns.code = std::move(added.code);
  return fns;
}

}  // namespace

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names{"traced",     "batched", "simplified", "contracted",
                                              "fused",      "llvm",    "llvm-opt",   "asm"};
  return names;
}

Compiled compile(const ir::Function& traced, const ir::VmapSpec& spec, const PipelineOptions& o) {
  Compiled c;
  Recorder rec(o, c.stages);
  ir::Function f = rec.step("traced", [&] { return traced; });
  ir::Function g = rec.step("batched", [&] { return ir::vmap(f, spec); });
  ir::Function s = rec.step("simplified", [&] { return ir::simplify(g); });
  // Contracted where the machine has FMA; the interpreter computes what the compiled code would
  // (without starting the JIT).
  bool contract = o.fp_contract && host_has_fma();
  c.batched = rec.step("contracted", [&] { return contract ? ir::contract_fma(s) : s; });
  if (o.interpreter) {
    c.exec = make_interpreter_executable(c.batched);
    return c;
  }
  Engine& engine = Engine::instance();
  auto t0 = Clock::now();
  std::vector<bool> contiguous = o.contiguous;
  contiguous.resize(c.batched.params.size() + c.batched.outputs.size(), true);
  cg::Schedule sched = cg::schedule(c.batched, engine.target(), o.fuse, contiguous, o.constant_captures);
  rec.record("fused", rec.keep_text() ? cg::print(c.batched, sched) : "", ms_since(t0));

  Tier first = o.tiering == Tiering::Optimized ? Tier::Optimized : Tier::Quick;
  auto kernels = std::make_shared<KernelSlot>(build_kernels(c.batched, sched, contiguous, first, &rec),
                                              first == Tier::Optimized);
  c.exec = make_compiled_executable(c.batched, sched, kernels);
  if (o.tiering == Tiering::Background) {
    // The job owns copies of what it emits from; an executable gone by then is not compiled.
    std::weak_ptr<KernelSlot> slot = kernels;
    engine.background([slot, f = c.batched, sched, contiguous] {
      if (slot.expired()) return;
      auto t0 = Clock::now();
      try {
        KernelFns fns = build_kernels(f, sched, contiguous, Tier::Optimized, nullptr);
        if (auto k = slot.lock()) k->install_optimized(fns);
        if (diagnostics_wanted()) report_optimized(f.name, signature_of(f), ms_since(t0), "");
      } catch (const std::exception& e) {
        // The quick kernels stay: they compute the same results. (A module the quick compile
        // accepted fails the optimized one only on an LLVM error, out of memory for one.)
        if (diagnostics_wanted()) report_optimized(f.name, signature_of(f), ms_since(t0), e.what());
      }
    });
  }
  return c;
}

}  // namespace jit::rt
