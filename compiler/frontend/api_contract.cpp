// frontend/api_contract.cpp: dot, mv, mm and matmul, each one dot_general node (matmul expands
// broadcast batch dims first; its 1-D operands are lifted to matrices and dropped again), and
// outer, a broadcast product.
#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "jit/ops.h"

namespace jit {
namespace {

using detail::describe;

Tensor dot_general(const Tensor& a, const Tensor& b, Dims bl, Dims br, Dims cl, Dims cr) {
  return detail::apply(ir::OpId::DotGeneral, {a, b},
                       {{"batch_lhs", bl}, {"batch_rhs", br}, {"contract_lhs", cl}, {"contract_rhs", cr}});
}

void check(const char* op, bool ok, const Tensor& a, const Tensor& b, const char* want) {
  if (!ok)
    throw Error(ErrorKind::Shape, fmt::format("{}: expected {}, got {} and {}", op, want, describe(a), describe(b)));
  if (a.dtype() != b.dtype())
    throw Error(ErrorKind::DType, fmt::format("{}: both operands must have one dtype, got {} and {}", op, describe(a), describe(b)));
}

}  // namespace

Tensor dot(const Tensor& a, const Tensor& b) {
  check("dot", a.dim() == 1 && b.dim() == 1 && a.shape() == b.shape(), a, b, "two 1-D tensors of one size");
  return dot_general(a, b, {}, {}, {0}, {0});
}

Tensor mv(const Tensor& a, const Tensor& b) {
  check("mv", a.dim() == 2 && b.dim() == 1 && a.shape()[1] == b.shape()[0], a, b, "[m, n] and [n]");
  return dot_general(a, b, {}, {}, {1}, {0});
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check("mm", a.dim() == 2 && b.dim() == 2 && a.shape()[1] == b.shape()[0], a, b, "[m, k] and [k, n]");
  return dot_general(a, b, {}, {}, {1}, {0});
}

// A broadcast product, as torch.outer: the dtypes promote and bools are allowed.
Tensor outer(const Tensor& a, const Tensor& b) {
  if (a.dim() != 1 || b.dim() != 1)
    throw Error(ErrorKind::Shape, fmt::format("outer: expected two 1-D tensors, got {} and {}", describe(a), describe(b)));
  return mul(unsqueeze(a, 1), b);
}

// torch.matmul: 1-D operands become a row (left) or a column (right) and that dim is dropped
// from the result; the batch dims (all but the last two) broadcast.
Tensor matmul(const Tensor& a, const Tensor& b) {
  check("matmul", a.dim() >= 1 && b.dim() >= 1 &&
                      a.shape().back() == (b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2]),
        a, b, "operands whose inner dims match");
  if (a.dim() <= 2 && b.dim() <= 2) {
    // [k].[k] -> [], [m,k].[k] -> [m], [k].[k,n] -> [n], [m,k].[k,n] -> [m,n]
    return dot_general(a, b, {}, {}, {a.dim() - 1}, {b.dim() == 1 ? 0 : b.dim() - 2});
  }
  Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a, b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  if (b2.dim() == 2) {
    // [..., m, k] . [k, n]: a's batch dims are free dims, no broadcasting needed
    Tensor r = dot_general(a2, b2, {}, {}, {a2.dim() - 1}, {0});
    return b.dim() == 1 ? squeeze(r, -1) : r;
  }
  Shape ba(a2.shape().begin(), a2.shape().end() - 2), bb(b2.shape().begin(), b2.shape().end() - 2);
  size_t nb = std::max(ba.size(), bb.size());
  Shape batch(nb, 1);
  for (size_t i = 0; i < nb; ++i) {
    int64_t x = i + ba.size() >= nb ? ba[i + ba.size() - nb] : 1;
    int64_t y = i + bb.size() >= nb ? bb[i + bb.size() - nb] : 1;
    if (x != y && x != 1 && y != 1)
      throw Error(ErrorKind::Shape, fmt::format("matmul: batch dims of {} and {} do not broadcast", describe(a), describe(b)));
    batch[i] = x == 1 ? y : x;
  }
  auto full = [&](const Tensor& t) {
    Shape s = batch;
    s.push_back(t.shape()[t.dim() - 2]);
    s.push_back(t.shape()[t.dim() - 1]);
    return expand(t, s);
  };
  Dims bd(nb);
  for (size_t i = 0; i < nb; ++i) bd[i] = static_cast<int64_t>(i);
  int64_t n = static_cast<int64_t>(nb);
  Tensor r = dot_general(full(a2), full(b2), bd, bd, {n + 1}, {n});
  if (a.dim() == 1) r = squeeze(r, -2);
  if (b.dim() == 1) r = squeeze(r, -1);
  return r;
}

}  // namespace jit
