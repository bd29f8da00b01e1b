// runtime/diagnostics.h: what a running program tells about its compiles, switched on by
// environment variables read once, at the first compile:
//
//   VMAPJIT_DUMP=DIR  every function the program compiles writes each stage of the pipeline to
//                     DIR/<function>.<hash>.<NN>-<stage>.<ext>: .jir for IR stages (the `fused`
//                     schedule too, as comments above the IR it schedules), .ll for LLVM IR, .s
//                     for assembly. Every .jir file can be fed back to vmapjit-dump. <hash> is
//                     of the signature and the stages' text, so equal hashes mean equal files.
//   VMAPJIT_LOG=info  one line per compile on stderr: function, signature, miss (compiled, with
//                     each stage's time) or hit (a signature other than the last call's, found
//                     in the cache). A call with the last call's signature takes the fast path
//                     and is not logged. Each background compile of optimized kernels logs
//                     its end.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/pipeline.h"

namespace jit::rt {

// Either variable is set: the runtime should report its compiles.
bool diagnostics_wanted();
// VMAPJIT_DUMP is set: the pipeline should keep each stage's text (PipelineOptions::keep_text).
bool stage_text_wanted();

// "(f32[?,5], f32[5] captured) -> (f32[?])": a compiled function's parameter and result types.
std::string signature_of(const ir::Function& f);

// A compile (a cache miss) and its stages, in pipeline order. Never throws: a dump that cannot
// be written is reported once on stderr.
void report_compile(const std::string& function, const std::string& signature,
                    const std::vector<StageRecord>& stages);
// A cache hit on the runtime's slow path.
void report_cache_hit(const std::string& function, const std::string& signature);
// A background compile's end (Tiering::Background): its kernels installed, or its error.
void report_optimized(const std::string& function, const std::string& signature, double ms,
                      const std::string& error);

// The file name a stage dumps to, without the directory: "vmap_model.1a2b3c4d5e6f.00-traced.jir".
std::string dump_file_name(const std::string& function, const std::string& hash, size_t index,
                           const std::string& stage);

}  // namespace jit::rt
