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

  // Diagonal matrices: diag(d) of a vector d[n] is reshape(pad(d, step n+1, size n*n), [n, n]),
  // the form Jacobians use for their identity basis. Over a diagonal, a product with any
  // operand keeps only that operand's diagonal, and a contraction is a row (or column) scaling:
  // an n x n x m contraction with an identity becomes n x m multiplies.
  ValueId diagonal_vector(ValueId v) const {
    const Node* r = b_.node(v);
    if (!r || r->op != OpId::Reshape || b_.type(v).rank() != 2) return -1;
    int64_t n = b_.type(v).shape[0];
    const Node* p = b_.node(r->operands[0]);
    if (!p || p->op != OpId::Pad || b_.type(v).shape[1] != n) return -1;
    ValueId d = p->operands[0];
    return b_.type(d).shape == Shape{n} && p->attrs == diagonal_pad_attrs(n) ? d : -1;
  }
  ValueId diag(ValueId d) {
    int64_t n = b_.type(d).shape[0];
    return b_.op(OpId::Reshape, {b_.op(OpId::Pad, {d}, diagonal_pad_attrs(n))}, {{"shape", Shape{n, n}}});
  }
  // The diagonal of y broadcast to [n, n], as a vector [n] (or a scalar that broadcasts to one).
  ValueId diagonal_of(ValueId y, int64_t n) {
    const Shape s = b_.type(y).shape;
    if (ir::checked_numel(s) == 1) return s.empty() ? y : b_.op(OpId::Reshape, {y}, {{"shape", Shape{}}});
    if (s == Shape{n} || s == Shape{1, n} || s == Shape{n, 1})
      return s.size() == 1 ? y : b_.op(OpId::Reshape, {y}, {{"shape", Shape{n}}});
    if (s != Shape{n, n}) return -1;
    ValueId flat = b_.op(OpId::Reshape, {y}, {{"shape", Shape{n * n}}});
    return b_.op(OpId::Slice, {flat}, {{"dim", int64_t(0)}, {"start", int64_t(0)}, {"stop", n * n}, {"step", n + 1}});
  }
  // diag(d) * y = diag(d * diagonal(y)).
  ValueId diagonal_product(const std::vector<ValueId>& ops, const Type& t) {
    for (int side = 0; side < 2; ++side) {
      ValueId d = diagonal_vector(ops[side]);
      if (d < 0 || b_.type(ops[side]) != t || b_.type(ops[1 - side]).dtype != t.dtype) continue;
      ValueId yd = diagonal_of(ops[1 - side], t.shape[0]);
      if (yd < 0) continue;
      return diag(b_.op(OpId::Mul, side == 0 ? std::vector<ValueId>{d, yd} : std::vector<ValueId>{yd, d}));
    }
    return -1;
  }
  // A contraction of one axis of diag(d) with axis k of m: d scales m's slices along k, which
  // move to where the diagonal's free axis stands in the result.
  ValueId diagonal_contraction(const Node& n, const std::vector<ValueId>& ops, const Type& t) {
    if (!n.attrs.get_ints("batch_lhs").empty()) return -1;
    const Shape& cl = n.attrs.get_ints("contract_lhs");
    const Shape& cr = n.attrs.get_ints("contract_rhs");
    if (cl.size() != 1) return -1;
    for (int side = 0; side < 2; ++side) {
      ValueId d = diagonal_vector(ops[side]);
      if (d < 0) continue;
      ValueId m = ops[1 - side];
      const Type& mt = b_.type(m);
      if (mt.dtype != t.dtype) continue;
      int64_t k = side == 0 ? cr[0] : cl[0];
      Shape perm;
      for (int64_t i = 0; i < mt.rank(); ++i)
        if (i != k) perm.push_back(i);
      perm.insert(side == 0 ? perm.begin() : perm.end(), k);  // the scaled axis: first or last
      ValueId moved = b_.op(OpId::Permute, {m}, {{"perm", perm}});
      ValueId scale = d;
      if (side == 0) {  // d along the first axis: [n, 1, ..., 1]
        Shape s(static_cast<size_t>(mt.rank()), 1);
        s[0] = b_.type(d).shape[0];
        scale = b_.op(OpId::Reshape, {d}, {{"shape", s}});
      }
      return b_.op(OpId::Mul, side == 0 ? std::vector<ValueId>{scale, moved} : std::vector<ValueId>{moved, scale});
    }
    return -1;
  }

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
        if (ValueId r = diagonal_product(ops, t); r >= 0) return r;
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
      case OpId::DotGeneral:
        if (ValueId r = diagonal_contraction(n, ops, t); r >= 0) return r;
        break;
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

Attrs diagonal_pad_attrs(int64_t n) {
  return {{"dim", int64_t(0)}, {"start", int64_t(0)}, {"step", n + 1}, {"size", n * n}};
}

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
