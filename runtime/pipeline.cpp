// runtime/pipeline.cpp: the compile pipeline.
#include "runtime/pipeline.h"

#include <chrono>

#include "ir/text.h"
#include "ir/verifier.h"

namespace jit::rt {
namespace {

class Recorder {
 public:
  Recorder(const PipelineOptions& o, std::vector<StageRecord>& out) : o_(o), out_(out) {}

  // Runs one IR step, times it, verifies and records its result.
  template <class F>
  ir::Function step(const char* name, F&& f) {
    auto t0 = std::chrono::steady_clock::now();
    ir::Function r = f();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (o_.verify) ir::verify(r);
    out_.push_back({name, o_.keep_text ? ir::print(r) : std::string(), ms});
    return r;
  }

 private:
  const PipelineOptions& o_;
  std::vector<StageRecord>& out_;
};

}  // namespace

Compiled compile(const ir::Function& traced, const ir::VmapSpec& spec, const PipelineOptions& o) {
  Compiled c;
  Recorder rec(o, c.stages);
  ir::Function f = rec.step("traced", [&] { return traced; });
  c.batched = rec.step("batched", [&] { return ir::vmap(f, spec); });
  c.exec = make_interpreter_executable(c.batched);
  return c;
}

}  // namespace jit::rt
