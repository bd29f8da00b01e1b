// transforms/contract.cpp: mul + add into fma (see contract.h).
#include "transforms/contract.h"

namespace jit::ir {

Function contract_fma(const Function& f) {
  std::vector<int32_t> uses(f.num_values(), 0);
  for (const Node& n : f.nodes)
    for (ValueId o : n.operands) ++uses[o];
  for (ValueId v : f.outputs) ++uses[v];
  // Per node: which operand's product it takes in (-1: none); per value: a product taken in.
  std::vector<int> take(f.nodes.size(), -1);
  std::vector<bool> absorbed(f.num_values(), false);
  auto product = [&](ValueId v, const Type& t) {
    return !f.is_param(v) && f.node_of(v).op == OpId::Mul && uses[v] == 1 && f.type(v) == t;
  };
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    if ((n.op != OpId::Add && n.op != OpId::Sub) || !is_float(n.type.dtype)) continue;
    for (int k = 0; k < 2 && take[i] < 0; ++k)
      if (product(n.operands[k], n.type)) take[i] = k, absorbed[n.operands[k]] = true;
  }

  Builder b(f.name);
  std::vector<ValueId> map;
  for (const Param& p : f.params) map.push_back(b.param(p.type, p.captured));
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    if (absorbed[f.value_of_node(i)]) {
      map.push_back(-1);  // built by its add
      continue;
    }
    if (take[i] < 0) {
      std::vector<ValueId> ops;
      for (ValueId o : n.operands) ops.push_back(map[o]);
      map.push_back(b.op_typed(n.op, std::move(ops), n.attrs, n.type));
      continue;
    }
    const Node& m = f.node_of(n.operands[take[i]]);
    ValueId a = map[m.operands[0]], x = map[m.operands[1]], c = map[n.operands[1 - take[i]]];
    if (n.op == OpId::Sub && take[i] == 0) c = b.op(OpId::Neg, {c});  // a b - c
    if (n.op == OpId::Sub && take[i] == 1) a = b.op(OpId::Neg, {a});  // c - a b
    map.push_back(b.op_typed(OpId::Fma, {a, x, c}, {}, n.type));
  }
  std::vector<ValueId> outs;
  for (ValueId v : f.outputs) outs.push_back(map[v]);
  return b.finish(outs);
}

}  // namespace jit::ir
