// runtime/engine.cpp: the ORC LLJIT engine.
#include "runtime/engine.h"

#include <fmt/format.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/IRCompileLayer.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/TargetParser/Host.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <thread>
#include <vector>

#include <unistd.h>

#include "jit/error.h"

namespace jit::rt {
namespace {

[[noreturn]] void fail(const std::string& what, llvm::Error e) {
  throw Error(ErrorKind::Compile, fmt::format("LLVM: {}: {}", what, llvm::toString(std::move(e))));
}

template <class T>
T check(llvm::Expected<T> v, const std::string& what) {
  if (!v) fail(what, v.takeError());
  return std::move(*v);
}

// The optimized tier's passes. Loops are rotated (tested at the bottom, behind a guard) before
// LICM, so that a load in a loop's body runs whenever the loop does and can leave it, with what
// depends on it (a divisor's reciprocal, a row's scalar broadcast).
constexpr const char* kPipeline =
    "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,loop(loop-rotate),loop-mssa(licm),"
    "loop-unroll<O2>,gvn,instcombine<no-verify-fixpoint>,simplifycfg)";
// The quick tier's: accumulators to registers and the index arithmetic cleaned up, then
// LLVM's fast instruction selection and register allocation (an eighth of the compile time, code
// 2-10x slower). No pass here changes a floating-point result: both tiers compute the same bits.
constexpr const char* kQuickPipeline = "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg)";

// VMAPJIT_PERF_MAP=1: every kernel linked is listed in /tmp/perf-<pid>.map ("address size
// name" per line), where `perf report` finds the names of JIT-compiled code.
class PerfMapPlugin : public llvm::orc::ObjectLinkingLayer::Plugin {
 public:
  static bool wanted() {
    const char* v = std::getenv("VMAPJIT_PERF_MAP");
    return v && *v && std::string(v) != "0";
  }
  void modifyPassConfig(llvm::orc::MaterializationResponsibility&, llvm::jitlink::LinkGraph&,
                        llvm::jitlink::PassConfiguration& config) override {
    config.PostFixupPasses.push_back([this](llvm::jitlink::LinkGraph& g) -> llvm::Error {
      std::lock_guard<std::mutex> lock(mu_);
      if (!file_) file_ = std::fopen(fmt::format("/tmp/perf-{}.map", ::getpid()).c_str(), "a");
      if (!file_) return llvm::Error::success();  // a profiling aid: never fails a compile
      for (llvm::jitlink::Symbol* sym : g.defined_symbols())
        if (sym->hasName() && sym->isCallable() && sym->getSize() > 0)
          fmt::print(file_, "{:x} {:x} {}\n", sym->getAddress().getValue(), sym->getSize(), sym->getName().str());
      std::fflush(file_);
      return llvm::Error::success();
    });
  }
  llvm::Error notifyFailed(llvm::orc::MaterializationResponsibility&) override { return llvm::Error::success(); }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey, llvm::orc::ResourceKey) override {}

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Asks LLVM's own cost model of the target whether an 8 x f32 gather stays one instruction.
bool has_fast_gather(llvm::TargetMachine& tm) {
  llvm::LLVMContext ctx;
  llvm::Module m("probe", ctx);
  m.setDataLayout(tm.createDataLayout());
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false),
                                    llvm::Function::ExternalLinkage, "probe", m);
  llvm::TargetTransformInfo tti = tm.getTargetTransformInfo(*fn);
  auto* vt = llvm::FixedVectorType::get(llvm::Type::getFloatTy(ctx), 8);
  return tti.isLegalMaskedGather(vt, llvm::Align(4)) && !tti.forceScalarizeMaskedGather(vt, llvm::Align(4));
}

}  // namespace

// Target machines are not thread-safe and cost a millisecond or more to create (subtarget, lowering
// and legalizer tables), so each compile borrows one from this pool and returns it: callers that
// compile at the same time each get their own, and a sequence of compiles reuses one.
class TargetMachinePool {
 public:
  explicit TargetMachinePool(llvm::orc::JITTargetMachineBuilder jtmb) : jtmb_(std::move(jtmb)) {}

  class Lease {
   public:
    Lease(TargetMachinePool& pool, std::unique_ptr<llvm::TargetMachine> tm) : pool_(pool), tm_(std::move(tm)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      std::lock_guard<std::mutex> lock(pool_.mu_);
      pool_.free_.push_back(std::move(tm_));
    }
    llvm::TargetMachine& operator*() const { return *tm_; }

   private:
    TargetMachinePool& pool_;
    std::unique_ptr<llvm::TargetMachine> tm_;
  };

  Lease borrow() { return Lease(*this, take()); }

 private:
  std::unique_ptr<llvm::TargetMachine> take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<llvm::TargetMachine> tm = std::move(free_.back());
        free_.pop_back();
        return tm;
      }
    }
    return check(jtmb_.createTargetMachine(), "creating a target machine");
  }

  llvm::orc::JITTargetMachineBuilder jtmb_;
  std::mutex mu_;
  std::vector<std::unique_ptr<llvm::TargetMachine>> free_;
};

// LLJIT's own IR layer is never used (Engine::add compiles with the pool and adds objects), so
// it gets a compiler that says so instead of a target machine of its own.
class NoIRCompiler : public llvm::orc::IRCompileLayer::IRCompiler {
 public:
  NoIRCompiler() : IRCompiler(llvm::orc::IRSymbolMapper::ManglingOptions()) {}
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> operator()(llvm::Module& m) override {
    return llvm::make_error<llvm::StringError>(
        "vmapjit compiles modules itself; IR added to the JIT (" + m.getName().str() + ") is not compiled",
        llvm::inconvertibleErrorCode());
  }
};

// One thread that runs queued jobs in order, started by the first. Stopping it (at exit) drops
// the jobs not started, waits for the one running and refuses new ones.
//
// At exit it must stop before any static object a job uses is destroyed, and a compile creates
// function-local statics of LLVM's (SelectionDAG's value type lists, for one) that are
// destroyed before anything registered earlier. glibc runs the exiting thread's thread_local
// destructors before every static destructor, so the thread that queues a job gets a guard
// whose destructor, in the main thread (whose end is the process's), stops the background
// thread. An atexit handler registered with each job (after the queuing thread's own compile
// made its statics) covers exit() from another thread.
class BackgroundThread {
 public:
  void push(std::function<void()> job);
  void wait_idle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return jobs_.empty() && !busy_; });
  }
  void stop() {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      jobs_.clear();
      t = std::move(thread_);
    }
    wake_.notify_all();
    if (t.joinable()) t.join();
  }
  ~BackgroundThread() { stop(); }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        busy_ = false;
        if (jobs_.empty()) idle_.notify_all();
        wake_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
      }
      job();  // jobs catch their own errors
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::function<void()>> jobs_;
  bool busy_ = false, stop_ = false;
  std::thread thread_;
};

struct ExitGuard {
  bool armed = false;
  ~ExitGuard() {
    if (armed && gettid() == getpid()) Engine::instance().stop_background();
  }
};
thread_local ExitGuard t_exit_guard;

void BackgroundThread::push(std::function<void()> job) {
  t_exit_guard.armed = true;
  std::atexit([] { Engine::instance().stop_background(); });
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;  // exiting
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  jobs_.push_back(std::move(job));
  wake_.notify_one();
}

// What a module's CodeHandle needs of the engine: whether it still exists (guarded by mu, so
// that no module is being freed while the engine goes), and the trackers of the live modules
// (each holding a reference of its handle's, given back when the engine goes first).
struct CodeState {
  std::mutex mu;
  bool alive = true;
  std::unordered_set<llvm::orc::ResourceTracker*> live;
};

struct Engine::Impl {
  std::shared_ptr<CodeState> code = std::make_shared<CodeState>();
  std::unique_ptr<TargetMachinePool> machines;
  std::unique_ptr<llvm::orc::LLJIT> jit;  // links the objects and resolves symbols
  cg::TargetInfo target;
  std::atomic<uint64_t> counter{0};
  BackgroundThread background;  // last: stopped before the JIT it compiles into goes
};

bool host_has_fma() {
  static const bool fma = [] {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    auto it = features.find("fma");
    return it != features.end() && it->second;
  }();
  return fma;
}

Engine::Engine() : impl_(std::make_unique<Impl>()) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
  // What LLJIT would choose for an ELF host with JITLink; the objects compiled here must match.
  jtmb.setCodeModel(llvm::CodeModel::Small);
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  impl_->target.triple = jtmb.getTargetTriple().str();
  impl_->target.cpu = jtmb.getCPU();
  impl_->target.features = jtmb.getFeatures().getString();
  const std::string& f = impl_->target.features;
  impl_->target.vector_bytes = f.find("+avx512f") != std::string::npos ? 64
                               : f.find("+avx2") != std::string::npos  ? 32
                                                                       : 16;
  impl_->target.fma = host_has_fma();
  impl_->target.avx512 = f.find("+avx512f") != std::string::npos && f.find("+avx512vl") != std::string::npos;
  impl_->machines = std::make_unique<TargetMachinePool>(jtmb);
  impl_->target.fast_gather = has_fast_gather(*impl_->machines->borrow());
  // Modules are compiled to objects by Engine::add in the calling thread, so the JIT only links:
  // no IR layer, no compile threads, no copy of each module into a new context.
  impl_->jit = check(llvm::orc::LLJITBuilder()
                          .setJITTargetMachineBuilder(jtmb)
                          .setSupportConcurrentCompilation(false)
                          .setCompileFunctionCreator([](llvm::orc::JITTargetMachineBuilder)
                                                         -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                            return std::make_unique<NoIRCompiler>();
                          })
                          .create(),
                      "creating the JIT");
  auto gen = check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                       impl_->jit->getDataLayout().getGlobalPrefix()),
                   "opening the process's symbols");
  impl_->jit->getMainJITDylib().addGenerator(std::move(gen));
  if (PerfMapPlugin::wanted())
    if (auto* layer = llvm::dyn_cast<llvm::orc::ObjectLinkingLayer>(&impl_->jit->getObjLinkingLayer()))
      layer->addPlugin(std::make_shared<PerfMapPlugin>());
}

Engine::~Engine() {
  std::lock_guard<std::mutex> lock(impl_->code->mu);
  impl_->code->alive = false;  // CodeHandles released from now on leave their code alone
  for (llvm::orc::ResourceTracker* t : impl_->code->live) t->Release();  // the session frees them
  impl_->code->live.clear();
}

int64_t Engine::live_modules() const {
  std::lock_guard<std::mutex> lock(impl_->code->mu);
  return static_cast<int64_t>(impl_->code->live.size());
}

Engine& Engine::instance() {
  static Engine e;
  return e;
}

const cg::TargetInfo& Engine::target() const { return impl_->target; }

std::string Engine::unique_name(const std::string& base) {
  return fmt::format("{}_{}", base, impl_->counter++);
}

void Engine::prepare(llvm::Module& m) const {
  m.setTargetTriple(impl_->jit->getTargetTriple().str());
  m.setDataLayout(impl_->jit->getDataLayout());
}

void Engine::background(std::function<void()> job) { impl_->background.push(std::move(job)); }

void Engine::wait_background() { impl_->background.wait_idle(); }
void Engine::stop_background() { impl_->background.stop(); }

AddedModule Engine::add(std::unique_ptr<llvm::LLVMContext> ctx, std::unique_ptr<llvm::Module> m,
                        const std::vector<std::string>& symbols, bool want_text, Tier tier) {
  AddedModule out;
  TargetMachinePool::Lease machine = impl_->machines->borrow();
  llvm::TargetMachine& tm = *machine;
  // Pooled machines are at the default level; a quick compile lowers it for its own use.
  struct Level {
    llvm::TargetMachine& tm;
    ~Level() { tm.setOptLevel(llvm::CodeGenOptLevel::Default); }
  } level{tm};
  if (tier == Tier::Quick) tm.setOptLevel(llvm::CodeGenOptLevel::None);
  auto t0 = std::chrono::steady_clock::now();
  {
    // The IR arrives vectorized, so the pipeline is lean: promote accumulators to registers,
    // clean up the index arithmetic, hoist loop invariants and unroll short loops.
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(&tm);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm;
    if (auto e = pb.parsePassPipeline(mpm, tier == Tier::Quick ? kQuickPipeline : kPipeline))
      fail("parsing the pass pipeline", std::move(e));
    mpm.run(*m, mam);
  }
  out.optimize_ms = ms_since(t0);
  if (want_text) {
    llvm::raw_string_ostream os(out.optimized_ir);
    m->print(os, nullptr);
    llvm::SmallString<0> buf;
    llvm::raw_svector_ostream asm_os(buf);
    llvm::legacy::PassManager pm;
    std::unique_ptr<llvm::Module> clone = llvm::CloneModule(*m);  // codegen passes rewrite IR
    if (!tm.addPassesToEmitFile(pm, asm_os, nullptr, llvm::CodeGenFileType::AssemblyFile)) pm.run(*clone);
    out.assembly = std::string(buf.str());
  }
  t0 = std::chrono::steady_clock::now();
  std::unique_ptr<llvm::MemoryBuffer> object = check(llvm::orc::SimpleCompiler(tm)(*m), "compiling");
  m.reset();
  ctx.reset();
  // Under a tracker of its own, so that its memory and symbols can be removed alone. The handle
  // holds one reference to the tracker (the engine's JITDylib holds the others): released
  // after the removal, or by ~Engine when the engine goes first (its session then frees it).
  llvm::orc::ResourceTrackerSP tracker = impl_->jit->getMainJITDylib().createResourceTracker();
  {
    std::lock_guard<std::mutex> lock(impl_->code->mu);
    impl_->code->live.insert(tracker.get());
    tracker->Retain();
  }
  out.code = CodeHandle(tracker.get(), [state = std::weak_ptr<CodeState>(impl_->code)](const void* p) {
    auto* t = static_cast<llvm::orc::ResourceTracker*>(const_cast<void*>(p));
    std::shared_ptr<CodeState> s = state.lock();
    if (!s) return;
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->alive) return;
    llvm::consumeError(t->remove());
    s->live.erase(t);
    t->Release();
  });
  if (auto e = impl_->jit->addObjectFile(tracker, std::move(object))) fail("adding an object", std::move(e));
  for (const std::string& s : symbols)
    out.addresses.push_back(check(impl_->jit->lookup(s), "looking up " + s).toPtr<void*>());
  out.codegen_ms = ms_since(t0);
  return out;
}

}  // namespace jit::rt
