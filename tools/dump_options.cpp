// tools/dump_options.cpp: vmapjit-dump's command line and --help.
#include "dump_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "runtime/pipeline.h"

namespace dump {
namespace {

int64_t to_int(std::string_view s, std::string_view opt, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi)
    throw UsageError(fmt::format("{} wants an integer in [{}, {}], got '{}'", opt, lo, hi, s));
  return v;
}

double to_double(std::string_view s, std::string_view opt) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !(v >= 0))
    throw UsageError(fmt::format("{} wants a non-negative number, got '{}'", opt, s));
  return v;
}

// "0,none,-1"
Dims to_dims(std::string_view s, std::string_view opt) {
  Dims d;
  size_t b = 0;
  while (true) {
    size_t e = s.find(',', b);
    std::string_view item = s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    if (item == "none") d.push_back(std::nullopt);
    else d.push_back(to_int(item, opt, -64, 63));
    if (e == std::string_view::npos) return d;
    b = e + 1;
  }
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_input = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string_view opt = a.substr(0, a.find('='));
    bool has_value = a.find('=') != std::string_view::npos;
    std::string_view v = has_value ? a.substr(opt.size() + 1) : std::string_view();
    auto need = [&](bool want) {
      if (want && !has_value) throw UsageError(fmt::format("{} needs a value: {}=...", opt, opt));
      if (!want && has_value) throw UsageError(fmt::format("{} takes no value", opt));
    };
    if (a == "-o") {
      if (++i >= argc) throw UsageError("-o needs a file name");
      o.output = argv[i];
    } else if (a == "-" || !a.starts_with("-")) {
      if (have_input) throw UsageError(fmt::format("more than one input: '{}' and '{}'", o.input, a));
      o.input = a;
      have_input = true;
    } else if (opt == "--help" || opt == "-h") {
      o.help = true;
    } else if (opt == "--vmap") {
      need(true), o.vmaps.push_back(to_dims(v, opt));
    } else if (opt == "--out-dims") {
      need(true), o.out_dims.push_back(to_dims(v, opt));
    } else if (opt == "--stage") {
      need(true);
      for (Dims::size_type b = 0; b <= v.size();) {
        size_t e = std::min(v.find(',', b), v.size());
        std::string s(v.substr(b, e - b));
        const auto& names = jit::rt::stage_names();
        if (s != "all" && std::find(names.begin(), names.end(), s) == names.end())
          throw UsageError(fmt::format("unknown stage '{}' (stages: {}, all)", s, fmt::join(names, ", ")));
        o.stages.push_back(s);
        b = e + 1;
      }
    } else if (opt == "--print-after-all") {
      need(false), o.stages.push_back("all");
    } else if (opt == "--func") {
      need(true), o.func = v;
    } else if (opt == "--run") {
      need(false), o.run = true;
    } else if (opt == "--check") {
      need(false), o.check = true;
    } else if (opt == "--bench") {
      need(false), o.bench = true;
    } else if (opt == "--interpreter") {
      need(false), o.interpreter = true;
    } else if (opt == "--no-fuse") {
      need(false), o.fuse = false;
    } else if (opt == "--no-fp-contract") {
      need(false), o.fp_contract = false;
    } else if (opt == "--constant-captures") {
      need(false), o.constant_captures = true;
    } else if (opt == "--quick") {
      need(false), o.quick = true;
    } else if (opt == "--list-ops") {
      need(false), o.list_ops = true;
    } else if (opt == "--batch") {
      need(true), o.batch = to_int(v, opt, 0, int64_t(1) << 32);
    } else if (opt == "--seed") {
      need(true), o.seed = static_cast<uint64_t>(to_int(v, opt, 0, INT64_MAX));
    } else if (opt == "--repeats") {
      need(true), o.repeats = static_cast<int>(to_int(v, opt, 1, 1000000));
    } else if (opt == "--threads") {
      need(true), o.threads = static_cast<int>(to_int(v, opt, 0, 1024));
    } else if (opt == "--rtol") {
      need(true), o.rtol = to_double(v, opt);
    } else if (opt == "--atol") {
      need(true), o.atol = to_double(v, opt);
    } else if (opt == "--randomness") {
      need(true);
      if (v == "error") o.randomness = jit::ir::RandomMode::Error;
      else if (v == "different") o.randomness = jit::ir::RandomMode::Different;
      else if (v == "same") o.randomness = jit::ir::RandomMode::Same;
      else throw UsageError(fmt::format("--randomness is error, different or same, not '{}'", v));
    } else {
      throw UsageError(fmt::format("unknown option '{}'", a));
    }
  }
  if (o.help || o.list_ops) return o;
  if (!have_input) throw UsageError("no input: give a .jir file, or - for standard input");
  if (o.out_dims.size() > o.vmaps.size()) throw UsageError("more --out-dims than --vmap");
  return o;
}

std::string help_text() {
  return fmt::format(R"(vmapjit-dump: read textual IR (.jir), verify it, vectorize it and print any stage of
the compile pipeline; run, check and time the result.

usage: vmapjit-dump FILE.jir | - [options]

  -                      read standard input
  --func=NAME            only the function @NAME of the input (default: each in turn)
  --vmap=IN_DIMS         vmap with these in_dims: one per argument (captured parameters are
                         never mapped) or one for all; each an integer or `none`. Repeat to
                         nest: the first --vmap is the innermost. Inner levels are batched with
                         a static --batch, as a nested jit::vmap traces its inner one.
  --out-dims=OUT_DIMS    out_dims of the matching --vmap (default 0)
  --randomness=MODE      random ops under vmap: error (default), different or same
  --stage=NAME[,NAME]    print these stages of the pipeline, in pipeline order, each under a
                         header `// ----- stage: NAME (X.XXX ms)`. Stages: {}, or all.
                         A stage this run did not produce is an error.
  --print-after-all      the same as --stage=all
  -o FILE                write the output to FILE instead of standard output
  --interpreter          run through the reference interpreter (stages stop at contracted)
  --no-fuse              compile without fusion (every value stored)
  --quick                compile the quick tier (a new kernel's first calls: light IR passes,
                         LLVM's fast instruction selection; the same bits, slower code)
  --no-fp-contract       every op rounds on its own: no a * b + c as one FMA
                         (VmapOptions::fp_contract false)
  --constant-captures    captured parameters are constants (VmapOptions::constant_captures):
                         what the kernel computes from them alone runs on the first call only
  --run                  run on random inputs and print the outputs (summarised when large):
                         floats N(0,1), integers in [0, 3), bools half true
  --batch=N              the batch size for --run, --check and --bench (default 4)
  --seed=S               seed of the random inputs and random ops (default 0)
  --check                compare the result with the reference interpreter on the batched
                         IR, and with a loop of the per-sample function over the batch (when
                         no op is random); --rtol, --atol (default 1e-4, 1e-5)
  --bench                median call time over --repeats=N calls (default 100), and the compile
                         time with each stage's, reported separately; --threads=N (0: auto)
  --list-ops             every op of the op table with its signature, one per line
  --help                 this text

Without --vmap, --stage or --run, the verified input is printed back in canonical form. With
--vmap alone, the final IR is printed. With --run, --check or --bench, the IR only with --stage.

examples:
  vmapjit-dump model.jir                              verify and print canonically
  vmapjit-dump model.jir | vmapjit-dump -             the same IR, twice
  vmapjit-dump dot.jir --vmap=0 --stage=batched       the vmap pass's result
  vmapjit-dump dot.jir --vmap=0,1 --out-dims=0 --print-after-all -o dot.dump
  vmapjit-dump pair.jir --vmap=none,0 --vmap=0,none   nested: all pairs of two batches
  vmapjit-dump mlp.jir --vmap=0 --run --batch=3 --seed=1
  vmapjit-dump mlp.jir --vmap=0 --check --batch=100
  vmapjit-dump mlp.jir --vmap=0 --bench --batch=4096 --repeats=200
  VMAPJIT_DUMP=/tmp/d ./my_program && vmapjit-dump /tmp/d/model.*.00-traced.jir --vmap=0

In a running program: VMAPJIT_DUMP=DIR writes each stage of every compile to DIR, as files
vmapjit-dump reads back; VMAPJIT_LOG=info prints one line per compile on stderr.

exit codes: 0 success; 1 malformed or invalid IR (file:line:col: error: ...), a failed compile,
run or --check; 2 a bad command line.
)",
                     fmt::join(jit::rt::stage_names(), ", "));
}

}  // namespace dump
