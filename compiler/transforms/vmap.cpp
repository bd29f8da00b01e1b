// transforms/vmap.cpp: the vmap pass.
//
// 1. Every mapped parameter gets the batch dim at its in_dim, then a permute moves it to the
//    front: inside the function every batched value has its batch dim at 0.
// 2. Nodes are visited in order. A node with no batched operand is copied unchanged (it stays
//    unbatched: hoisted out of the batch). Otherwise the op's batching rule from the op table
//    emits the batched computation; its result type is checked against [B] + the per-sample type.
// 3. Random ops follow the randomness mode: an error, one draw per sample, or one shared draw.
// 4. Each output's batch dim moves to its out_dim; an unbatched output is broadcast there.
#include "transforms/vmap.h"

#include <fmt/format.h>

#include "transforms/batching.h"

namespace jit::ir {

ValueId BatchCtx::align_rank(ValueId v, int64_t rank) {
  Shape s = b.type(v).shape;
  int64_t r = static_cast<int64_t>(s.size()) - 1;
  if (r >= rank) return v;
  s.insert(s.begin() + 1, rank - r, 1);
  return b.op(OpId::Reshape, {v}, {{"shape", s}});
}

ValueId BatchCtx::ensure_batched(const BValue& v) {
  if (v.batched) return v.id;
  Shape s = b.type(v.id).shape;
  s.insert(s.begin(), 1);
  ValueId r = b.op(OpId::Reshape, {v.id}, {{"shape", s}});
  s[0] = batch;
  return b.op(OpId::Expand, {r}, {{"shape", s}});
}

ValueId BatchCtx::move_dim(ValueId v, int64_t from, int64_t to) {
  if (from == to) return v;
  int64_t rank = b.type(v).rank();
  Shape perm;
  for (int64_t i = 0; i < rank; ++i)
    if (i != from) perm.push_back(i);
  perm.insert(perm.begin() + to, from);
  return b.op(OpId::Permute, {v}, {{"perm", perm}});
}

Shape BatchCtx::sample_shape(const BValue& v) const {
  Shape s = b.type(v.id).shape;
  if (v.batched) s.erase(s.begin());
  return s;
}

namespace {

int64_t normalize(const VmapSpec& spec, int64_t d, int64_t rank, const char* what, size_t i,
                  const Type& t) {
  if (d < -rank || d >= rank)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: {}[{}] = {} is out of range for {} {} {} (batched rank {}, so "
                            "dims in [{}, {}])",
                            spec.context, what, i, d, what[0] == 'i' ? "argument" : "output", i,
                            to_string(t), rank, -rank, rank - 1));
  return d < 0 ? d + rank : d;
}

}  // namespace

Function vmap(const Function& f, const VmapSpec& spec) {
  if (spec.in_dims.size() != f.params.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: in_dims has {} entries but the function takes {} inputs",
                            spec.context, spec.in_dims.size(), f.params.size()));
  if (spec.out_dims.size() != f.outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: out_dims has {} entries but the function returns {} outputs",
                            spec.context, spec.out_dims.size(), f.outputs.size()));
  Builder b(f.name);
  BatchCtx ctx{b, spec.batch_size, f};
  std::vector<BValue> map;
  map.reserve(f.num_values());
  for (size_t i = 0; i < f.params.size(); ++i) {
    Type t = f.params[i].type;
    if (!spec.in_dims[i]) {
      map.push_back({b.param(t, f.params[i].captured), false});
      continue;
    }
    int64_t d = normalize(spec, *spec.in_dims[i], t.rank() + 1, "in_dims", i, t);
    t.shape.insert(t.shape.begin() + d, spec.batch_size);
    map.push_back({ctx.move_dim(b.param(t, f.params[i].captured), d, 0), true});
  }
  for (const Node& n : f.nodes) {
    const OpInfo& info = op_info(n.op);
    std::vector<BValue> in;
    bool any = false;
    for (ValueId v : n.operands) {
      in.push_back(map[v]);
      any |= map[v].batched;
    }
    if (info.cls == OpClass::Random) {
      if (spec.randomness == RandomMode::Error)
        throw Error(ErrorKind::Randomness,
                    fmt::format("{}: random op '{}' ({}) under randomness=error; pass "
                                "jit::VmapOptions{{.randomness = jit::Randomness::Different}} to "
                                "draw independent values per sample, or Randomness::Same to "
                                "share one draw across the batch",
                                spec.context, info.name, to_string(n.type)));
      any = spec.randomness == RandomMode::Different;
    }
    if (!any) {
      std::vector<ValueId> ops;
      for (const BValue& v : in) ops.push_back(v.id);
      map.push_back({b.op(n.op, ops, n.attrs), false});
      continue;
    }
    BValue r = info.batch(ctx, n, in);
    Shape want = n.type.shape;
    if (r.batched) want.insert(want.begin(), spec.batch_size);
    if (b.type(r.id).shape != want || b.type(r.id).dtype != n.type.dtype)
      throw Error(ErrorKind::Verify,
                  fmt::format("internal error: the batching rule of '{}' made {} for a per-sample "
                              "{}", info.name, to_string(b.type(r.id)), to_string(n.type)));
    map.push_back(r);
  }
  std::vector<ValueId> outs;
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    BValue v = map[f.outputs[i]];
    const Type& t = f.type(f.outputs[i]);
    if (!spec.out_dims[i]) {
      if (v.batched)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: out_dims[{}] is none but output {} ({} per sample) depends on "
                                "a mapped input; give it an out_dim",
                                spec.context, i, i, to_string(t)));
      outs.push_back(v.id);
      continue;
    }
    int64_t d = normalize(spec, *spec.out_dims[i], t.rank() + 1, "out_dims", i, t);
    outs.push_back(ctx.move_dim(ctx.ensure_batched(v), 0, d));
  }
  return b.finish(outs);
}

}  // namespace jit::ir
