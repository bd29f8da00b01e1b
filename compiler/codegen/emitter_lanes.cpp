// codegen/emitter_lanes.cpp: what a group is made of (a contraction, its ops' kinds) and how
// many vector lanes its loops take.
#include "codegen/emitter.h"

namespace jit::cg {

bool Emitter::is_contraction(const Group& g) const {
  return !f_.is_param(g.root) && f_.node_of(g.root).op == ir::OpId::DotGeneral;
}

bool Emitter::walk_group(const Group& g, const std::function<bool(ir::ValueId v, bool leaf)>& visit) const {
  std::vector<ir::ValueId> todo{g.root};
  std::vector<bool> seen(f_.num_values());
  seen[g.root] = true;
  while (!todo.empty()) {
    ir::ValueId v = todo.back();
    todo.pop_back();
    bool leaf = f_.is_param(v) || (v != g.root && !is_inline(v));
    if (!visit(v, leaf)) return false;
    if (leaf) continue;
    for (ir::ValueId o : f_.node_of(v).operands)
      if (!seen[o]) seen[o] = true, todo.push_back(o);
  }
  return true;
}

Emitter::GroupOps Emitter::group_ops(const Group& g) const {
  GroupOps r;
  walk_group(g, [&](ir::ValueId v, bool leaf) {
    if (leaf) return true;
    const ir::Node& n = f_.node_of(v);
    ir::OpClass c = ir::op_info(n.op).cls;
    // (scatter_add is a layout op that reduces inside its lowering)
    r.reduces |= c == ir::OpClass::Reduction || c == ir::OpClass::Contraction || n.op == ir::OpId::ScatterAdd;
    r.other |= c != ir::OpClass::Elementwise && !n.operands.empty();
    r.costly |= c == ir::OpClass::Elementwise && op_cost(n.op) >= 10;
    return true;
  });
  return r;
}

// Lanes for a loop of `trip` iterations: a power of two up to the vector registers' width. A
// contraction takes several registers' worth: each operand element loaded for one lane group
// then serves them all (an unroll-and-jam along the lanes). With the jam of 4 along another dim
// that makes 4 x k accumulators, which must stay in registers: k = 4 with AVX-512's 32, k = 2
// with AVX2's 16 (4 x 4 there spilled half the accumulators to the stack every iteration).
// (A jam of 8 is only taken with one register's worth of lanes: see emit_group.)
unsigned Emitter::lane_width(const Group& g, int64_t trip) const {
  unsigned limit = vector_lanes();
  if (is_contraction(g)) limit *= target_.vector_bytes >= 64 ? 4 : 2;
  // Likewise a reduction (alone or under elementwise ops) whose lanes run over kept dims: an
  // element broadcast along the lanes (a distance's query point) is loaded once for two
  // registers' worth; with its four partial accumulators that is 8 registers.
  if (!f_.is_param(g.root) && limit == static_cast<unsigned>(vector_lanes())) {
    ir::ValueId v = g.root;
    while (!f_.is_param(v) && ir::op_info(f_.node_of(v).op).cls == ir::OpClass::Elementwise &&
           f_.node_of(v).operands.size() == 1 && is_inline(f_.node_of(v).operands[0]))
      v = f_.node_of(v).operands[0];
    if (!f_.is_param(v) && ir::op_info(f_.node_of(v).op).cls == ir::OpClass::Reduction) limit *= 2;
  }
  // A group of elementwise ops (and layout, sources) with a transcendental among them: two
  // registers' worth of lanes. One vector's long dependent chain alone leaves the FP scheduler
  // waiting on latency; two vectors' chains interleave, and the fast path's one branch covers both.
  // (Four, as before, was no faster anywhere and slower for the longest chains, 1,000 x f32[1000],
  // medians: gelu's tanh form 862-864 -> 808-827 us, tanh 309-310 -> 306, the benchmark's chain
  // 600-620 -> 597-599; exp, sigmoid and softmax within noise.) Such lanes are independent, so the
  // bits are the same at any width (not so with an inline reduction, whose lanes may run along the
  // reduced dim: not widened, as the quick tier's narrower lanes must give the same bits).
  GroupOps ops = group_ops(g);
  bool independent = !f_.is_param(g.root) && !ops.reduces;
  if (!target_.quick && limit == static_cast<unsigned>(vector_lanes()) && ops.costly && independent) limit *= 2;
  unsigned pow2 = trip >= (1 << 20) ? 1u << 20 : 1u << (63 - __builtin_clzll(std::max<int64_t>(trip, 1)));
  // A short lane dim (a layer's 10 outputs) takes one masked step of the next width up rather
  // than a step and a masked one: for a contraction half the multiply-adds, for elementwise
  // ops half the vectors (a softmax's exp of 10 logits: one). The same bits: each lane's sum
  // runs along the contracted dim either way, and independent lanes do not see their width.
  if (pow2 < trip && pow2 < static_cast<unsigned>(vector_lanes()) && (is_contraction(g) || independent)) pow2 *= 2;
  return std::min(limit, pow2);
}

}  // namespace jit::cg
