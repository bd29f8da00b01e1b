// runtime/pipeline.h: the compile pipeline as a list of named steps, from a traced per-sample
// function to an executable. Each IR step is verified when verification is on; each step's
// time (and, on request, its printed result) is recorded for the dumper and VMAPJIT_DUMP.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "jit/vmap.h"
#include "runtime/executable.h"
#include "transforms/vmap.h"

namespace jit::rt {

struct StageRecord {
  std::string name;  // traced, batched, simplified, contracted, fused, llvm, llvm-opt, asm
  std::string text;  // the stage's result, when PipelineOptions::keep_text
  double ms = 0;
};

// The stages rt::compile can record, in pipeline order.
const std::vector<std::string>& stage_names();

struct PipelineOptions {
  bool interpreter = false;  // run through the reference interpreter instead of compiling
  bool verify = true;        // run the verifier after every IR step
  bool keep_text = false;    // record every stage's printed result
  bool fuse = true;          // false: store every value (to test fusion against)
  Tiering tiering = Tiering::Optimized;  // the dumper's default: the code that runs in the end
  bool constant_captures = false;        // see VmapOptions
  bool fp_contract = true;               // see VmapOptions
  // Per parameter, then per output of the batched function: whether its memory is row-major
  // (strides known when compiling). Empty: all are.
  std::vector<bool> contiguous;
};

struct Compiled {
  ir::Function batched;  // the final IR
  std::unique_ptr<Executable> exec;
  std::vector<StageRecord> stages;
};

// traced -> vmap -> simplify -> contract -> fuse -> LLVM IR -> optimized -> machine code.
Compiled compile(const ir::Function& traced, const ir::VmapSpec& spec, const PipelineOptions& o);

}  // namespace jit::rt
