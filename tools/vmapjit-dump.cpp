// tools/vmapjit-dump.cpp: the command-line IR dumper. Reads textual IR, verifies it, applies
// vmap, prints any stage of the compile pipeline, and runs, checks and times the result.
//
// 1. Options are read into one struct; a usage error exits 2, bad input or a failed check 1.
// 2. Each function of the input is verified, then batched: every --vmap level but the outermost
//    with a static batch (as a nested jit::vmap traces its inner one), the outermost by
//    rt::compile, whose recorded stages are printed.
// 3. --run, --check and --bench call rt::compile's executable over the batch range, as the
//    runtime does; the reference interpreter is the oracle.
#include <fmt/format.h>
#include <jit/jit.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "dump_options.h"
#include "interp/interpreter.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "runtime/pipeline.h"

using jit::Tensor;
namespace ir = jit::ir;
namespace rt = jit::rt;

namespace {

using Clock = std::chrono::steady_clock;

// Where a level's in_dims or out_dims apply: one entry for all, else one per argument/output.
std::vector<std::optional<int64_t>> expand_dims(const dump::Dims& d, size_t n, const char* what,
                                                const std::string& fn) {
  if (d.size() == 1) return std::vector<std::optional<int64_t>>(n, d[0]);
  if (d.size() != n)
    throw jit::Error(jit::ErrorKind::InvalidArgument,
                     fmt::format("@{}: {} has {} entries but the function has {} {}", fn, what,
                                 d.size(), n, what[0] == 'o' ? "outputs" : "arguments"));
  return d;
}

ir::VmapSpec level_spec(const ir::Function& f, const dump::Options& o, size_t level) {
  ir::VmapSpec spec;
  spec.context = fmt::format("vmap({})", f.name);
  spec.randomness = o.randomness;
  size_t nargs = 0;
  for (const ir::Param& p : f.params) nargs += !p.captured;
  std::vector<std::optional<int64_t>> in = expand_dims(o.vmaps[level], nargs, "in_dims", f.name);
  for (size_t i = 0, a = 0; i < f.params.size(); ++i)
    spec.in_dims.push_back(f.params[i].captured ? std::nullopt : in[a++]);
  dump::Dims out = level < o.out_dims.size() ? o.out_dims[level] : dump::Dims{0};
  spec.out_dims = expand_dims(out, f.outputs.size(), "out_dims", f.name);
  return spec;
}

// Random inputs of the parameters' types: floats N(0,1), integers in [0, 3), bools half true.
std::vector<Tensor> random_inputs(const ir::Function& f, int64_t batch, uint64_t seed) {
  std::vector<Tensor> in;
  for (size_t i = 0; i < f.params.size(); ++i) {
    const ir::Type& t = f.params[i].type;
    jit::Shape s = ir::resolve(t.shape, batch);
    uint64_t sd = seed * 1000003u + i;
    if (jit::is_float(t.dtype)) in.push_back(jit::randn(s, sd, t.dtype));
    else if (t.dtype == jit::DType::b8) in.push_back(jit::rand(s, sd) < 0.5);
    else in.push_back(jit::floor(jit::rand(s, sd) * 3.0).to(t.dtype));
  }
  return in;
}

std::vector<Tensor> run(const rt::Executable& exec, const ir::Function& g,
                        const std::vector<Tensor>& in, int64_t batch, const dump::Options& o) {
  std::vector<Tensor> out;
  for (ir::ValueId v : g.outputs)
    out.push_back(jit::empty(ir::resolve(g.type(v).shape, batch), g.type(v).dtype));
  rt::RunOptions ro;
  ro.ctx.seed = o.seed;
  ro.threads = o.threads;
  exec.run(in, {}, out, batch, ro);
  return out;
}

std::string describe_diff(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape())
    return fmt::format("shape {} but expected {}", ir::shape_string(got.shape()), ir::shape_string(want.shape()));
  std::vector<double> a = got.to_vector(), b = want.to_vector();
  size_t worst = 0;
  double diff = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::isnan(a[i]) != std::isnan(b[i]) ? INFINITY : std::abs(a[i] - b[i]);
    if (d > diff) diff = d, worst = i;
  }
  return a.empty() ? "no elements" : fmt::format("max |difference| {:g} at element {} ({:g} vs {:g})",
                                                 diff, worst, a[worst], b[worst]);
}

class Dumper {
 public:
  explicit Dumper(const dump::Options& o) : o_(o) {}
  std::string out;  // what goes to stdout or -o
  bool failed = false;

  void function(const ir::Function& parsed) {
    ir::verify(parsed);
    bool wants_ir = !o_.stages.empty() || !(o_.run || o_.check || o_.bench);
    if (o_.vmaps.empty() && o_.stages.empty() && !o_.run && !o_.check && !o_.bench) {
      out += ir::print(parsed);
      return;
    }
    // Inner levels first, each with a static batch; the outermost goes through the pipeline.
    ir::Function f = parsed;
    for (size_t l = 0; l + 1 < o_.vmaps.size(); ++l) {
      ir::VmapSpec spec = level_spec(f, o_, l);
      spec.batch_size = o_.batch;
      f = ir::vmap(f, spec);
      ir::verify(f);
    }
    ir::VmapSpec spec;
    if (o_.vmaps.empty()) {
      spec.context = fmt::format("compile({})", f.name);
      spec.in_dims.assign(f.params.size(), std::nullopt);
      spec.out_dims.assign(f.outputs.size(), std::nullopt);
    } else {
      spec = level_spec(f, o_, o_.vmaps.size() - 1);
    }
    rt::PipelineOptions po;
    po.interpreter = o_.interpreter;
    po.fuse = o_.fuse;
    po.constant_captures = o_.constant_captures;
    po.fp_contract = o_.fp_contract;
    po.tiering = o_.quick ? jit::Tiering::Quick : jit::Tiering::Optimized;
    po.keep_text = wants_ir;
    auto t0 = Clock::now();
    rt::Compiled c = rt::compile(f, spec, po);
    double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (wants_ir) print_stages(c);
    if (!(o_.run || o_.check || o_.bench)) return;
    int64_t batch = o_.vmaps.empty() ? 0 : o_.batch;
    std::vector<Tensor> in = random_inputs(c.batched, batch, o_.seed);
    std::vector<Tensor> res = run(*c.exec, c.batched, in, batch, o_);
    if (o_.run) print_outputs(c.batched, res);
    if (o_.check) check(f, spec, c, in, res, batch);
    if (o_.bench) bench(c, in, batch, compile_ms);
  }

 private:
  void print_stages(const rt::Compiled& c) {
    if (o_.stages.empty()) {
      out += ir::print(c.batched);
      return;
    }
    bool all = std::find(o_.stages.begin(), o_.stages.end(), "all") != o_.stages.end();
    for (const std::string& want : o_.stages) {
      if (want == "all") continue;
      bool produced = false;
      for (const rt::StageRecord& s : c.stages) produced |= s.name == want;
      if (!produced) {
        std::string have;
        for (const rt::StageRecord& s : c.stages) have += (have.empty() ? "" : ", ") + s.name;
        throw jit::Error(jit::ErrorKind::InvalidArgument,
                         fmt::format("stage '{}' was not produced: this run produced {}{}", want, have,
                                     o_.interpreter ? " (--interpreter stops before fusion)" : ""));
      }
    }
    for (const rt::StageRecord& s : c.stages) {
      if (!all && std::find(o_.stages.begin(), o_.stages.end(), s.name) == o_.stages.end()) continue;
      out += fmt::format("// ----- stage: {} ({:.3f} ms)\n", s.name, s.ms);
      out += s.text;
      if (!s.text.empty() && s.text.back() != '\n') out += '\n';
    }
  }

  void print_outputs(const ir::Function& g, const std::vector<Tensor>& res) {
    for (size_t i = 0; i < res.size(); ++i)
      out += fmt::format("// output {} of @{}: {}\n", i, g.name, res[i].to_string());
  }

  // Compiled against the interpreter on the same batched IR, and the batched function against
  // a loop of the per-sample function over the batch (when no op is random).
  void check(const ir::Function& f, const ir::VmapSpec& spec, const rt::Compiled& c,
             const std::vector<Tensor>& in, const std::vector<Tensor>& res, int64_t batch) {
    ir::KernelCtx ctx;
    ctx.seed = o_.seed;
    std::vector<Tensor> want = ir::interpret(c.batched, in, ctx);
    int bad = 0;
    for (size_t i = 0; i < res.size(); ++i)
      if (!jit::allclose(res[i], want[i], o_.rtol, o_.atol, true)) {
        out += fmt::format("// check: output {} differs from the interpreter: {}\n", i,
                           describe_diff(res[i], want[i]));
        ++bad;
      }
    bool random = false;
    for (const ir::Node& n : f.nodes) random |= ir::op_info(n.op).cls == ir::OpClass::Random;
    bool loop = !o_.vmaps.empty() && !random && f.params.size() == in.size();
    for (int64_t b = 0; loop && b < batch; ++b) {
      std::vector<Tensor> sample;
      for (size_t i = 0; i < in.size(); ++i) {
        auto d = spec.in_dims[i];
        sample.push_back(d ? jit::select(in[i], *d < 0 ? *d + in[i].dim() : *d, b) : in[i]);
      }
      std::vector<Tensor> one = ir::interpret(f, sample, ctx);
      for (size_t j = 0; j < res.size(); ++j) {
        auto d = spec.out_dims[j];
        Tensor got = d ? jit::select(res[j], *d < 0 ? *d + res[j].dim() : *d, b) : res[j];
        if (!jit::allclose(got, one[j], o_.rtol, o_.atol, true)) {
          out += fmt::format("// check: output {} of sample {} differs from the per-sample function: {}\n",
                             j, b, describe_diff(got, one[j]));
          ++bad;
          loop = false;
        }
      }
    }
    if (bad) failed = true;
    out += fmt::format("// check: @{} {} ({} output{}, batch {}, rtol {:g}, atol {:g})\n", c.batched.name,
                       bad ? "FAILED" : "ok", res.size(), res.size() == 1 ? "" : "s", batch, o_.rtol, o_.atol);
  }

  void bench(const rt::Compiled& c, const std::vector<Tensor>& in, int64_t batch, double compile_ms) {
    std::string stages;
    for (const rt::StageRecord& s : c.stages)
      stages += fmt::format("{}{} {:.3f}", stages.empty() ? "" : ", ", s.name, s.ms);
    out += fmt::format("// bench: @{} compile {:.3f} ms ({} ms)\n", c.batched.name, compile_ms, stages);
    std::vector<Tensor> outs;
    for (ir::ValueId v : c.batched.outputs)
      outs.push_back(jit::empty(ir::resolve(c.batched.type(v).shape, batch), c.batched.type(v).dtype));
    rt::RunOptions ro;
    ro.ctx.seed = o_.seed;
    ro.threads = o_.threads;
    std::vector<double> us;
    for (int r = -1; r < o_.repeats; ++r) {  // one warm-up call
      auto t0 = Clock::now();
      c.exec->run(in, {}, outs, batch, ro);
      if (r >= 0) us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    double med = us[us.size() / 2];
    out += fmt::format("// bench: @{} run median {:.3f} us, min {:.3f} us over {} calls, batch {}{}\n",
                       c.batched.name, med, us.front(), us.size(), batch,
                       batch > 0 ? fmt::format(", {:.1f} ns/sample", med * 1000 / batch) : "");
  }

  const dump::Options& o_;
};

std::string read_input(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw jit::Error(jit::ErrorKind::InvalidArgument, fmt::format("{}: cannot open the file", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int main_impl(int argc, char** argv) {
  dump::Options o;
  try {
    o = dump::parse_options(argc, argv);
  } catch (const dump::UsageError& e) {
    std::fprintf(stderr, "vmapjit-dump: error: %s\nTry 'vmapjit-dump --help'.\n", e.what());
    return dump::kExitUsage;
  }
  if (o.help) {
    std::fputs(dump::help_text().c_str(), stdout);
    return dump::kExitOk;
  }
  Dumper d(o);
  if (o.list_ops) {
    for (const ir::OpInfo& op : ir::all_ops())
      d.out += fmt::format("{:<14} {}  // {}\n", op.name, op.signature, ir::op_class_name(op.cls));
  } else {
    std::string name = o.input == "-" ? "<stdin>" : o.input;
    try {
      std::string text = read_input(o.input);
      std::vector<ir::Function> fs = ir::parse(text, name);
      size_t done = 0;
      for (const ir::Function& f : fs) {
        if (!o.func.empty() && f.name != o.func) continue;
        if (done++) d.out += "\n";
        d.function(f);
      }
      if (fs.empty()) throw jit::Error(jit::ErrorKind::Parse, fmt::format("{}: error: no function in the input", name));
      if (!done) throw jit::Error(jit::ErrorKind::InvalidArgument, fmt::format("no function @{} in the input", o.func));
    } catch (const jit::Error& e) {
      std::fflush(stdout);
      if (e.kind() == jit::ErrorKind::Parse) std::fprintf(stderr, "%s\n", e.what());
      else std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
      return dump::kExitBad;
    }
  }
  if (o.output.empty()) {
    std::fwrite(d.out.data(), 1, d.out.size(), stdout);
  } else {
    std::ofstream f(o.output, std::ios::binary);
    f << d.out;
    if (!f) {
      std::fprintf(stderr, "vmapjit-dump: error: cannot write '%s'\n", o.output.c_str());
      return dump::kExitBad;
    }
  }
  return d.failed ? dump::kExitBad : dump::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmapjit-dump: error: %s\n", e.what());
    return dump::kExitBad;
  }
}
