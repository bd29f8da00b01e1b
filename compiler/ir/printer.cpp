// ir/printer.cpp: the textual IR's printer.
#include <fmt/format.h>

#include <cassert>
#include <cctype>
#include <cmath>
#include <cstring>

#include "ir/text.h"

namespace jit::ir {

std::string print_attr_value(const AttrValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* t = std::get_if<DType>(&v)) return std::string(dtype_name(*t));
  if (auto* l = std::get_if<std::vector<int64_t>>(&v)) return fmt::format("[{}]", fmt::join(*l, ","));
  double d = std::get<double>(v);
  if (std::isnan(d)) {  // the default quiet NaNs by name, any other by its exact bits
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    if (bits == 0x7ff8000000000000ull) return "nan";
    if (bits == 0xfff8000000000000ull) return "-nan";
    return fmt::format("nan(0x{:016x})", bits);
  }
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);  // the shortest text that reads back to d
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// A function's name: bare when it is made of [A-Za-z0-9_.$-], else quoted with \\, \" and \xHH.
std::string print_function_name(const std::string& name) {
  bool bare = !name.empty();
  for (char c : name) bare &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' || c == '-';
  if (bare) return "@" + name;
  std::string s = "@\"";
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') s += {'\\', c};
    else if (u < 0x20 || u >= 0x7f) s += fmt::format("\\x{:02x}", u);
    else s += c;
  }
  return s + "\"";
}

std::string print_node(const Function& f, const Node& n) {
  assert(n.regions.empty() && "no op has regions yet");
  std::string s = fmt::format("%{} = {}(", f.value_of_node(&n - f.nodes.data()), op_info(n.op).name);
  for (size_t i = 0; i < n.operands.size(); ++i) s += fmt::format("{}%{}", i ? ", " : "", n.operands[i]);
  s += ")";
  if (!n.attrs.empty()) {
    s += " {";
    bool first = true;
    for (const auto& [k, v] : n.attrs.items()) {
      s += fmt::format("{}{}={}", first ? "" : ", ", k, print_attr_value(v));
      first = false;
    }
    s += "}";
  }
  return s + " : " + to_string(n.type);
}

std::string print(const Function& f) {
  std::string s = fmt::format("func {}(", print_function_name(f.name));
  for (size_t i = 0; i < f.params.size(); ++i)
    s += fmt::format("{}%{}: {}{}", i ? ", " : "", i, to_string(f.params[i].type),
                     f.params[i].captured ? " captured" : "");
  s += ") -> (";
  for (size_t i = 0; i < f.outputs.size(); ++i) s += (i ? ", " : "") + to_string(f.type(f.outputs[i]));
  s += ") {\n";
  for (const Node& n : f.nodes) s += "  " + print_node(f, n) + "\n";
  s += "  return";
  for (size_t i = 0; i < f.outputs.size(); ++i) s += fmt::format("{} %{}", i ? "," : "", f.outputs[i]);
  return s + "\n}\n";
}

}  // namespace jit::ir
