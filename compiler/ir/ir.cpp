// ir/ir.cpp: nodes, functions and the type-inferring, hash-consing builder.
#include "ir/ir.h"

#include <fmt/format.h>

#include <unordered_map>

#include "jit/error.h"

namespace jit::ir {

bool Node::operator==(const Node& o) const {
  if (op != o.op || operands != o.operands || !(attrs == o.attrs) || !(type == o.type) ||
      regions.size() != o.regions.size())
    return false;
  for (size_t i = 0; i < regions.size(); ++i)
    if (!(*regions[i] == *o.regions[i])) return false;
  return true;
}

std::vector<int32_t> Function::use_counts() const {
  std::vector<int32_t> uses(num_values(), 0);
  for (const Node& n : nodes)
    for (ValueId o : n.operands) ++uses[o];
  for (ValueId v : outputs) ++uses[v];
  return uses;
}

bool Function::operator==(const Function& o) const {
  return name == o.name && params == o.params && nodes == o.nodes && outputs == o.outputs;
}

namespace {

std::string types_string(std::span<const Type> in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) s += (i ? ", " : "") + to_string(in[i]);
  return s;
}

void check_attrs(const OpInfo& info, const Attrs& attrs) {
  for (const AttrSpec& spec : info.attrs) {
    const AttrValue* v = attrs.find(spec.name);
    if (!v) {
      if (spec.required)
        throw Error(ErrorKind::Verify,
                    fmt::format("op '{}' needs attribute '{}' ({})", info.name, spec.name,
                                attr_kind_name(spec.kind)));
      continue;
    }
    if (!attr_has_kind(*v, spec.kind))
      throw Error(ErrorKind::Verify, fmt::format("op '{}': attribute '{}' must be {}", info.name,
                                                 spec.name, attr_kind_name(spec.kind)));
  }
  for (const auto& [name, v] : attrs.items()) {
    bool known = false;
    for (const AttrSpec& spec : info.attrs) known |= spec.name == name;
    if (!known)
      throw Error(ErrorKind::Verify,
                  fmt::format("op '{}' has no attribute '{}'", info.name, name));
  }
}

}  // namespace

Type infer_type(OpId op, std::span<const Type> in, const Attrs& attrs) {
  const OpInfo& info = op_info(op);
  if (info.arity >= 0 ? static_cast<int>(in.size()) != info.arity : in.empty())
    throw Error(ErrorKind::Verify,
                fmt::format("op '{}' takes {} operand{}, got {} ({})", info.name,
                            info.arity >= 0 ? std::to_string(info.arity) : "one or more",
                            info.arity == 1 ? "" : "s", in.size(), types_string(in)));
  check_attrs(info, attrs);
  return info.infer(info, in, attrs);
}

struct Builder::Impl {
  std::unordered_multimap<size_t, ValueId> seen;  // node hash -> value, for hash-consing
};

Builder::Builder(std::string name, bool cse) : cse_(cse), impl_(std::make_shared<Impl>()) {
  f_.name = std::move(name);
}

ValueId Builder::param(const Type& t, bool captured) {
  f_.params.push_back({t, captured});
  values_.push_back({true, static_cast<int32_t>(f_.params.size() - 1)});
  return num_values() - 1;
}

const Type& Builder::type(ValueId v) const {
  const Entry& e = values_.at(v);
  return e.is_param ? f_.params[e.index].type : f_.nodes[e.index].type;
}

const Node* Builder::node(ValueId v) const {
  const Entry& e = values_.at(v);
  return e.is_param ? nullptr : &f_.nodes[e.index];
}

ValueId Builder::add_node(Node n) {
  size_t h = 0;
  bool dedup = cse_ && op_info(n.op).cls != OpClass::Random && n.regions.empty();
  if (dedup) {
    h = n.attrs.hash() ^ (static_cast<size_t>(n.op) * 0x9e3779b97f4a7c15ull);
    for (ValueId v : n.operands) h = h * 1000003u + static_cast<size_t>(v);
    auto [lo, hi] = impl_->seen.equal_range(h);
    for (auto it = lo; it != hi; ++it)
      if (*node(it->second) == n) return it->second;
  }
  f_.nodes.push_back(std::move(n));
  values_.push_back({false, static_cast<int32_t>(f_.nodes.size() - 1)});
  ValueId id = num_values() - 1;
  if (dedup) impl_->seen.emplace(h, id);
  return id;
}

ValueId Builder::op(OpId op, std::vector<ValueId> operands, Attrs attrs) {
  std::vector<Type> types;
  types.reserve(operands.size());
  for (ValueId v : operands) {
    if (v < 0 || v >= num_values())
      throw Error(ErrorKind::Verify,
                  fmt::format("op '{}': operand %{} is not defined", op_info(op).name, v));
    types.push_back(type(v));
  }
  Node n;
  n.type = infer_type(op, types, attrs);
  n.op = op;
  n.operands = std::move(operands);
  n.attrs = std::move(attrs);
  return add_node(std::move(n));
}

ValueId Builder::op_typed(OpId op, std::vector<ValueId> operands, Attrs attrs,
                          const Type& declared) {
  ValueId v = this->op(op, std::move(operands), std::move(attrs));
  if (!(type(v) == declared))
    throw Error(ErrorKind::Verify,
                fmt::format("op '{}': declared type {} does not match the inferred type {}",
                            op_info(op).name, to_string(declared), to_string(type(v))));
  return v;
}

ValueId Builder::constant(double value, DType dtype) {
  if (!is_float(dtype)) return constant_int(static_cast<int64_t>(value), dtype);
  return op(OpId::Constant, {}, Attrs{{"dtype", dtype}, {"value", value}});
}

ValueId Builder::constant_int(int64_t value, DType dtype) {
  if (is_float(dtype)) return constant(static_cast<double>(value), dtype);
  if (dtype == DType::b8) value = value != 0;
  return op(OpId::Constant, {}, Attrs{{"dtype", dtype}, {"value", value}});
}

Function Builder::finish(std::vector<ValueId> outputs) const {
  std::vector<ValueId> canon(values_.size());
  int32_t np = static_cast<int32_t>(f_.params.size());
  for (size_t v = 0; v < values_.size(); ++v)
    canon[v] = values_[v].is_param ? values_[v].index : np + values_[v].index;
  Function f = f_;
  for (Node& n : f.nodes)
    for (ValueId& v : n.operands) v = canon[v];
  for (ValueId& v : outputs) {
    if (v < 0 || v >= num_values())
      throw Error(ErrorKind::Verify, fmt::format("return of undefined value %{}", v));
    v = canon[v];
  }
  f.outputs = std::move(outputs);
  return f;
}

}  // namespace jit::ir
