// transforms/contract.cpp: mul + add into fma (see contract.h).
#include "transforms/contract.h"

namespace jit::ir {

Function contract_fma(const Function& f) {
  std::vector<int32_t> uses = f.use_counts();
  auto scalar_constant = [&](ValueId v) {
    return !f.is_param(v) && f.node_of(v).op == OpId::Constant && f.type(v).rank() == 0;
  };
  // Whether -v can take v's place in the fma of an add of type t: a scalar constant is negated
  // in place, and a per-sample v (or any, where nothing is: t has no batch dim) is negated in
  // the fma's fused group, where LLVM folds the negation into the FMA instruction. A v computed
  // once per call would have its negation stored by the schedule, a pass of its own every call.
  auto negatable = [&](ValueId v, const Type& t) {
    return scalar_constant(v) || f.type(v).has_dyn() || !t.has_dyn();
  };

  // Per node: which operand's product it takes in (-1: none) and which of the fma's operands
  // (a, b, c) it negates (-1: none); per value: whether it is a product taken in.
  std::vector<int> take(f.nodes.size(), -1), negate(f.nodes.size(), -1);
  std::vector<bool> absorbed(f.num_values(), false);
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    if ((n.op != OpId::Add && n.op != OpId::Sub) || !is_float(n.type.dtype)) continue;
    for (int k = 0; k < 2 && take[i] < 0; ++k) {
      ValueId p = n.operands[k];
      if (f.is_param(p) || f.node_of(p).op != OpId::Mul || uses[p] != 1 || !(f.type(p) == n.type)) continue;
      int neg = -1;
      if (n.op == OpId::Sub && k == 0) {  // a b - c = fma(a, b, -c)
        if (!negatable(n.operands[1], n.type)) continue;
        neg = 2;
      } else if (n.op == OpId::Sub) {  // c - a b = fma(-a, b, c) or fma(a, -b, c), a constant first
        const Node& m = f.node_of(p);
        for (int j = 0; j < 2; ++j)
          if (neg < 0 && scalar_constant(m.operands[j])) neg = j;
        for (int j = 0; j < 2; ++j)
          if (neg < 0 && negatable(m.operands[j], n.type)) neg = j;
        if (neg < 0) continue;
      }
      take[i] = k, negate[i] = neg, absorbed[p] = true;
    }
  }

  Builder b(f.name);
  std::vector<ValueId> map;
  auto negated = [&](ValueId v) {
    if (scalar_constant(v)) return b.constant(-f.node_of(v).attrs.get_float("value"), f.type(v).dtype);
    return b.op(OpId::Neg, {map[v]});
  };
  for (const Param& p : f.params) map.push_back(b.param(p.type, p.captured));
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    if (absorbed[f.value_of_node(i)]) {
      map.push_back(-1);  // built by the add that takes it in
      continue;
    }
    if (take[i] < 0) {
      std::vector<ValueId> ops;
      for (ValueId o : n.operands) ops.push_back(map[o]);
      map.push_back(b.op_typed(n.op, std::move(ops), n.attrs, n.type));
      continue;
    }
    const Node& m = f.node_of(n.operands[take[i]]);
    std::vector<ValueId> ops{m.operands[0], m.operands[1], n.operands[1 - take[i]]};
    std::vector<ValueId> mapped;
    for (int j = 0; j < 3; ++j) mapped.push_back(j == negate[i] ? negated(ops[j]) : map[ops[j]]);
    map.push_back(b.op_typed(OpId::Fma, std::move(mapped), {}, n.type));
  }
  std::vector<ValueId> outs;
  for (ValueId v : f.outputs) outs.push_back(map[v]);
  return b.finish(outs);
}

}  // namespace jit::ir
