// ir/ir.h: functions as SSA node lists. Value ids are dense: a function's parameters are values
// 0..P-1 and node i defines value P+i, so a node's operands always have smaller ids.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/attrs.h"
#include "ir/op_table.h"
#include "ir/types.h"

namespace jit::ir {

using ValueId = int32_t;
struct Function;

struct Node {
  OpId op{};
  std::vector<ValueId> operands;
  Attrs attrs;
  Type type;  // of the value this node defines
  // Nested bodies for control-flow ops (cond, while_loop); no op has one yet.
  std::vector<std::shared_ptr<const Function>> regions;

  bool operator==(const Node& o) const;
};

struct Param {
  Type type;
  bool captured = false;  // an implicit input: a tensor captured by the traced closure
  bool operator==(const Param& o) const { return type == o.type && captured == o.captured; }
};

struct Function {
  std::string name = "f";
  std::vector<Param> params;
  std::vector<Node> nodes;
  std::vector<ValueId> outputs;

  int32_t num_values() const { return static_cast<int32_t>(params.size() + nodes.size()); }
  bool is_param(ValueId v) const { return v < static_cast<ValueId>(params.size()); }
  const Node& node_of(ValueId v) const { return nodes[v - params.size()]; }
  ValueId value_of_node(size_t i) const { return static_cast<ValueId>(params.size() + i); }
  const Type& type(ValueId v) const {
    return is_param(v) ? params[v].type : node_of(v).type;
  }
  // Per value: how many operands and outputs read it.
  std::vector<int32_t> use_counts() const;
  bool operator==(const Function& o) const;
};

// Creates functions. Every node's type is inferred from its operands by the op's rule as it is
// created, so an ill-typed node never exists: a mismatch throws jit::Error naming the op and the
// shapes. Identical nodes are created once (hash-consing), which makes CSE free.
// Parameters may be added at any time (a tracer meets captured tensors late); finish() numbers
// the values canonically: parameters first, in creation order, then nodes.
class Builder {
 public:
  explicit Builder(std::string name = "f", bool cse = true);

  ValueId param(const Type& t, bool captured = false);
  ValueId op(OpId op, std::vector<ValueId> operands, Attrs attrs = {});
  ValueId constant(double value, DType dtype);
  ValueId constant_int(int64_t value, DType dtype);
  // A node whose type is given rather than inferred; checked against the inferred one.
  ValueId op_typed(OpId op, std::vector<ValueId> operands, Attrs attrs, const Type& declared);

  const Type& type(ValueId v) const;
  // The node defining v, or nullptr for a parameter.
  const Node* node(ValueId v) const;
  int32_t num_values() const { return static_cast<int32_t>(values_.size()); }
  Function finish(std::vector<ValueId> outputs) const;

 private:
  ValueId add_node(Node n);
  struct Entry {
    bool is_param;
    int32_t index;  // into f_.params or f_.nodes
  };
  Function f_;  // operands here are builder ids
  std::vector<Entry> values_;
  bool cse_;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The type an op would give these operands (throws jit::Error on a mismatch).
Type infer_type(OpId op, std::span<const Type> operand_types, const Attrs& attrs);

}  // namespace jit::ir
