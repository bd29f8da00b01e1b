// transforms/simplify.cpp: CSE, DCE, constant folding and exact identities.
#include "transforms/simplify.h"

#include <cmath>
#include <cstring>

#include "interp/interpreter.h"

namespace jit::ir {
namespace {

class Simplifier {
 public:
  explicit Simplifier(const Function& f) : f_(f), b_(f.name) {}

  Function run() {
    std::vector<bool> live(f_.num_values(), false);
    for (ValueId v : f_.outputs) live[v] = true;
    for (size_t i = f_.nodes.size(); i-- > 0;)
      if (live[f_.value_of_node(i)])
        for (ValueId o : f_.nodes[i].operands) live[o] = true;
    for (const Param& p : f_.params) map_.push_back(b_.param(p.type, p.captured));
    for (size_t i = 0; i < f_.nodes.size(); ++i) {
      if (!live[f_.value_of_node(i)]) {
        map_.push_back(-1);
        continue;
      }
      const Node& n = f_.nodes[i];
      std::vector<ValueId> ops;
      for (ValueId o : n.operands) ops.push_back(map_[o]);
      map_.push_back(rewrite(n, ops));
    }
    std::vector<ValueId> outs;
    for (ValueId v : f_.outputs) outs.push_back(map_[v]);
    return b_.finish(outs);
  }

 private:
  // The constant node behind v when v is a scalar constant.
  const Node* constant(ValueId v) const {
    const Node* n = b_.node(v);
    return n && n->op == OpId::Constant ? n : nullptr;
  }
  // The constant node behind v when every element of v is that constant (a constant reshaped
  // or expanded).
  const Node* splat(ValueId v) const {
    const Node* n = b_.node(v);
    while (n && (n->op == OpId::Reshape || n->op == OpId::Expand)) n = b_.node(n->operands[0]);
    return n && n->op == OpId::Constant ? n : nullptr;
  }
  bool is_const(ValueId v, double value, bool negative_zero = false) const {
    const Node* c = splat(v);
    if (!c) return false;
    double x = c->attrs.get_float("value");
    return x == value && (!is_float(c->type.dtype) || std::signbit(x) == negative_zero);
  }
  // v itself can stand for a node of type t (no broadcasting or dtype change).
  bool same_type(ValueId v, const Type& t) const { return b_.type(v) == t; }

  ValueId rewrite(const Node& n, const std::vector<ValueId>& ops) {
    Type t = infer_type(n.op, types(ops), n.attrs);
    if (ValueId r = identity(n, ops, t); r >= 0) return r;
    if (ValueId r = fold(n, ops, t); r >= 0) return r;
    return b_.op(n.op, ops, n.attrs);
  }

  std::vector<Type> types(const std::vector<ValueId>& ops) const {
    std::vector<Type> r;
    for (ValueId v : ops) r.push_back(b_.type(v));
    return r;
  }

  ValueId identity(const Node& n, const std::vector<ValueId>& ops, const Type& t) {
    auto keep = [&](int i) { return same_type(ops[i], t) ? ops[i] : -1; };
    bool fl = is_float(t.dtype);
    switch (n.op) {
      case OpId::Mul:
        if (is_const(ops[1], 1)) return keep(0);
        if (is_const(ops[0], 1)) return keep(1);
        // x * -1 is -x exactly
        if (fl && is_const(ops[1], -1, true) && same_type(ops[0], t)) return b_.op(OpId::Neg, {ops[0]});
        if (fl && is_const(ops[0], -1, true) && same_type(ops[1], t)) return b_.op(OpId::Neg, {ops[1]});
        break;
      case OpId::Div:
        if (is_const(ops[1], 1)) return keep(0);
        break;
      case OpId::Sub:
        if (is_const(ops[1], 0)) return keep(0);  // x - (+0) is x, -0 included
        break;
      case OpId::Add:
        // x + (-0.0) is x exactly; x + (+0.0) is not when x is -0.0.
        if (is_const(ops[1], 0, fl)) return keep(0);
        if (is_const(ops[0], 0, fl)) return keep(1);
        break;
      case OpId::Neg:
        if (const Node* m = b_.node(ops[0]); m && m->op == OpId::Neg) return m->operands[0];
        break;
      case OpId::Where:
        if (ops[1] == ops[2]) return keep(1);
        break;
      case OpId::Reshape: case OpId::Expand:
        if (b_.type(ops[0]).shape == t.shape) return ops[0];
        if (const Node* m = b_.node(ops[0]); m && m->op == OpId::Reshape && n.op == OpId::Reshape)
          return b_.op(OpId::Reshape, {m->operands[0]}, n.attrs);
        break;
      case OpId::Permute: {
        const Shape& p = n.attrs.get_ints("perm");
        bool ident = true;
        for (size_t i = 0; i < p.size(); ++i) ident &= p[i] == static_cast<int64_t>(i);
        if (ident) return ops[0];
        if (const Node* m = b_.node(ops[0]); m && m->op == OpId::Permute) {
          const Shape& q = m->attrs.get_ints("perm");
          Shape c;
          bool composed_ident = true;
          for (size_t i = 0; i < p.size(); ++i) {
            c.push_back(q[p[i]]);
            composed_ident &= c.back() == static_cast<int64_t>(i);
          }
          if (composed_ident) return m->operands[0];
          return b_.op(OpId::Permute, {m->operands[0]}, {{"perm", c}});
        }
        break;
      }
      default: break;
    }
    return -1;
  }

  // A node of scalar constants becomes a constant.
  ValueId fold(const Node& n, const std::vector<ValueId>& ops, const Type& t) {
    const OpInfo& info = op_info(n.op);
    if (ops.empty() || t.rank() != 0 || info.cls == OpClass::Random) return -1;
    std::vector<Tensor> in;
    for (ValueId v : ops) {
      const Node* c = constant(v);
      if (!c) return -1;
      Tensor x = empty({}, c->type.dtype);
      op_info(OpId::Constant).kernel(*c, {}, x, {});
      in.push_back(x);
    }
    Node m = n;
    m.type = t;
    Tensor r;
    try {
      r = run_kernel(m, in, {}, {});
    } catch (const Error&) {
      return -1;  // e.g. an index out of range: left for run time to report
    }
    if (is_float(t.dtype)) return b_.constant(r.item(), t.dtype);
    int64_t v = 0;
    std::memcpy(&v, r.data(), dtype_size(t.dtype));
    if (t.dtype == DType::i32) v = static_cast<int32_t>(v);
    if (t.dtype == DType::b8) v = static_cast<uint8_t>(v);
    return b_.constant_int(v, t.dtype);
  }

  const Function& f_;
  Builder b_;
  std::vector<ValueId> map_;
};

}  // namespace

// A rewrite can leave the node it replaced dead: repeat until nothing changes.
Function simplify(const Function& f) {
  Function g = Simplifier(f).run();
  for (int i = 0; i < 4; ++i) {
    Function h = Simplifier(g).run();
    if (h == g) break;
    g = std::move(h);
  }
  return g;
}

}  // namespace jit::ir
