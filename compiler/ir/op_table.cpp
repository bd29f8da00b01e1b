// ir/op_table.cpp: builds the op table once: static facts from ops.def, rules from the families.
#include "ir/op_table.h"

#include <array>
#include <unordered_map>

namespace jit::ir {
namespace {

struct Table {
  std::array<OpInfo, kNumOps> ops;
  std::unordered_map<std::string_view, OpId> by_name;
};

const Table& table() {
  static const Table t = [] {
    Table t;
    int i = 0;
#define JIT_OP(id_, name_, cls_, arity_)    \
  t.ops[i].id = OpId::id_;                  \
  t.ops[i].name = name_;                    \
  t.ops[i].cls = OpClass::cls_;             \
  t.ops[i].arity = arity_;                  \
  t.by_name[name_] = OpId::id_;             \
  ++i;
#include "ir/ops.def"
#undef JIT_OP
    // Families see the table through the registry only while it is being built.
    OpRegistry reg(t.ops.data());
    register_elementwise_ops(reg);
    register_source_ops(reg);
    register_reduction_ops(reg);
    register_contraction_ops(reg);
    register_layout_ops(reg);
    register_lowering(reg);
    register_derivatives(reg);
    return t;
  }();
  return t;
}

}  // namespace

const OpInfo& op_info(OpId id) { return table().ops[static_cast<size_t>(id)]; }

const OpInfo* find_op(std::string_view name) {
  const Table& t = table();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : &t.ops[static_cast<size_t>(it->second)];
}

std::span<const OpInfo> all_ops() { return table().ops; }

std::string_view op_class_name(OpClass c) {
  switch (c) {
    case OpClass::Elementwise: return "elementwise";
    case OpClass::Source: return "source";
    case OpClass::Random: return "random";
    case OpClass::Reduction: return "reduction";
    case OpClass::Contraction: return "contraction";
    case OpClass::Layout: return "layout";
  }
  return "?";
}

}  // namespace jit::ir
