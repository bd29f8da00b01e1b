// runtime/diagnostics.cpp: VMAPJIT_DUMP and VMAPJIT_LOG.
//
// 1. The variables are read once, on first use (a function-local static).
// 2. A compile writes its stages to files whose name carries a hash of the signature and the
//    stages' text, so two compiles that produce the same files share a name and those that
//    differ do not, with no counter to keep across threads.
// 3. Nothing here throws into the runtime: a failed write warns once on stderr.
#include "runtime/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "ir/text.h"

namespace jit::rt {
namespace {

struct Settings {
  std::string dump_dir;  // empty: no dumps
  bool log = false;
};

const Settings& settings() {
  static const Settings s = [] {
    Settings s;
    if (const char* d = std::getenv("VMAPJIT_DUMP")) s.dump_dir = d;
    if (const char* l = std::getenv("VMAPJIT_LOG")) {
      std::string v = l;
      s.log = !(v.empty() || v == "0" || v == "off" || v == "none");
    }
    return s;
  }();
  return s;
}

std::mutex& io_mutex() {
  static std::mutex mu;
  return mu;
}

uint64_t fnv1a(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Letters, digits, '_', '-' and '.' stay; a run of anything else becomes one '_'.
std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    if (ok) out += c;
    else if (out.empty() || out.back() != '_') out += '_';
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? "function" : out.substr(0, 100);
}

std::string extension(const std::string& stage) {
  if (stage == "llvm" || stage == "llvm-opt") return "ll";
  if (stage == "asm") return "s";
  return "jir";  // traced, batched, simplified, contracted, and fused (its schedule as comments)
}

bool is_ir_stage(const std::string& stage) {
  return stage == "traced" || stage == "batched" || stage == "simplified" || stage == "contracted";
}

// "// " before every line.
std::string as_comments(const std::string& text) {
  std::string out;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    out += "// " + text.substr(b, e - b) + "\n";
    b = e + 1;
  }
  return out;
}

void warn_once(const std::string& what) {
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  std::fprintf(stderr, "vmapjit: warning: VMAPJIT_DUMP: %s (further dump errors are not reported)\n",
               what.c_str());
}

// Writes the stages' files; returns the common prefix "DIR/name.hash" or "" on failure.
std::string dump(const std::string& function, const std::string& signature,
                 const std::vector<StageRecord>& stages) {
  namespace fs = std::filesystem;
  uint64_t h = fnv1a(0xcbf29ce484222325ull, function + "\n" + signature);
  for (const StageRecord& s : stages) h = fnv1a(fnv1a(h, s.name), s.text);
  std::string hash = fmt::format("{:012x}", h & 0xffffffffffffull);
  fs::path dir = settings().dump_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    warn_once(fmt::format("cannot create directory '{}': {}", dir.string(), ec.message()));
    return "";
  }
  const std::vector<std::string>& order = stage_names();
  std::string last_ir;
  for (size_t i = 0; i < stages.size(); ++i) {
    const StageRecord& s = stages[i];
    if (s.text.empty()) continue;
    auto it = std::find(order.begin(), order.end(), s.name);
    size_t index = it != order.end() ? static_cast<size_t>(it - order.begin()) : i;
    std::string text = s.text;
    if (is_ir_stage(s.name)) last_ir = s.text;
    if (s.name == "fused") text = as_comments(s.text) + last_ir;
    std::string about = fmt::format("{}: stage {} of {} {}", s.name, index, function, signature);
    std::replace(about.begin(), about.end(), '\n', ' ');
    std::string header = fmt::format("{} {}\n", extension(s.name) == "ll" ? ";" : "//", about);
    if (extension(s.name) == "s") header = "# " + header.substr(3);
    fs::path p = dir / dump_file_name(function, hash, index, s.name);
    std::ofstream out(p, std::ios::binary);
    out << header << text;
    if (!out) {
      warn_once(fmt::format("cannot write '{}'", p.string()));
      return "";
    }
  }
  return (dir / (file_safe(function) + "." + hash)).string();
}

}  // namespace

bool diagnostics_wanted() { return settings().log || !settings().dump_dir.empty(); }
bool stage_text_wanted() { return !settings().dump_dir.empty(); }

std::string signature_of(const ir::Function& f) {
  std::string s = "(";
  for (size_t i = 0; i < f.params.size(); ++i)
    s += fmt::format("{}{}{}", i ? ", " : "", ir::to_string(f.params[i].type),
                     f.params[i].captured ? " captured" : "");
  s += ") -> (";
  for (size_t i = 0; i < f.outputs.size(); ++i) s += (i ? ", " : "") + ir::to_string(f.type(f.outputs[i]));
  return s + ")";
}

std::string dump_file_name(const std::string& function, const std::string& hash, size_t index,
                           const std::string& stage) {
  return fmt::format("{}.{}.{:02}-{}.{}", file_safe(function), hash, index, stage, extension(stage));
}

void report_compile(const std::string& function, const std::string& signature,
                    const std::vector<StageRecord>& stages) {
  if (!diagnostics_wanted()) return;
  try {
    std::lock_guard<std::mutex> lock(io_mutex());
    std::string prefix;
    if (!settings().dump_dir.empty()) prefix = dump(function, signature, stages);
    if (!settings().log) return;
    double total = 0;
    std::string times;
    for (const StageRecord& s : stages) {
      total += s.ms;
      times += fmt::format("{}{} {:.3f}", times.empty() ? "" : ", ", s.name, s.ms);
    }
    std::string line = fmt::format("vmapjit: {} {}: miss, compiled in {:.3f} ms ({} ms)", function,
                                   signature, total, times);
    if (!prefix.empty()) line += fmt::format(", dumped to {}.*", prefix);
    std::fprintf(stderr, "%s\n", line.c_str());
  } catch (const std::exception& e) {
    warn_once(e.what());
  }
}

void report_cache_hit(const std::string& function, const std::string& signature) {
  if (!settings().log) return;
  std::lock_guard<std::mutex> lock(io_mutex());
  std::fprintf(stderr, "vmapjit: %s %s: hit\n", function.c_str(), signature.c_str());
}

void report_optimized(const std::string& function, const std::string& signature, double ms,
                      const std::string& error) {
  if (!settings().log) return;
  std::lock_guard<std::mutex> lock(io_mutex());
  if (error.empty())
    std::fprintf(stderr, "vmapjit: %s %s: optimized kernels installed (compiled in background in %.3f ms)\n",
                 function.c_str(), signature.c_str(), ms);
  else
    std::fprintf(stderr, "vmapjit: %s %s: the optimized compile failed, the quick kernels stay: %s\n",
                 function.c_str(), signature.c_str(), error.c_str());
}

}  // namespace jit::rt
