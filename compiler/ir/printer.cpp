// ir/printer.cpp: the textual IR's printer.
#include <fmt/format.h>

#include <cassert>
#include <cmath>

#include "ir/text.h"

namespace jit::ir {

std::string print_attr_value(const AttrValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* t = std::get_if<DType>(&v)) return std::string(dtype_name(*t));
  if (auto* l = std::get_if<std::vector<int64_t>>(&v)) return fmt::format("[{}]", fmt::join(*l, ","));
  double d = std::get<double>(v);
  if (std::isnan(d)) return std::signbit(d) ? "-nan" : "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);  // the shortest text that reads back to d
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
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
  std::string s = fmt::format("func @{}(", f.name);
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
