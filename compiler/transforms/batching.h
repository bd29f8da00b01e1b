// transforms/batching.h: what a batching rule sees. The vmap pass keeps every batched value with
// its batch dim in front, so a rule only ever deals with "batched at 0" or "not batched"; the
// case where no operand is batched is handled by the pass and never reaches a rule.
#pragma once

#include "ir/ir.h"

namespace jit::ir {

struct BValue {
  ValueId id;
  bool batched;
};

struct BatchCtx {
  Builder& b;
  int64_t batch;        // the batch size: kDyn, or static when vmap is traced inline
  const Function& src;  // the per-sample function being batched

  // [B, s...] of per-sample rank r -> [B, 1 x (rank - r), s...].
  ValueId align_rank(ValueId v, int64_t rank);
  // An unbatched value broadcast to [B, s...]; a batched one as it is.
  ValueId ensure_batched(const BValue& v);
  // Moves dim `from` of v to position `to` (a permute; no-op when equal).
  ValueId move_dim(ValueId v, int64_t from, int64_t to);
  // The per-sample shape of a batched value (its shape without dim 0).
  Shape sample_shape(const BValue& v) const;
};

}  // namespace jit::ir
