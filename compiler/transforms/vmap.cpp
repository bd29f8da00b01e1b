// transforms/vmap.cpp: the vmap pass.
//
// 1. Every mapped parameter gets the batch dim at its in_dim, then a permute moves it to the
//    front: inside the function every batched value has its batch dim at 0.
// 2. Nodes are visited in order. A node with no batched operand is copied unchanged (it stays
//    unbatched: hoisted out of the batch). Otherwise the op's batching rule from the op table
//    emits the batched computation; its result type is checked against [B] + the per-sample type.
// 3. Random ops follow the randomness mode: an error, one draw per sample, or one shared draw.
//    When nothing is mapped (jit::compile, grad) there is no batch and they simply draw.
// 4. Each output's batch dim moves to its out_dim; an unbatched output is broadcast there.
// 5. The per-sample fallback, for an op without a batching rule (none today): with a static
//    batch size, the op runs once per sample on slices of its operands and the results are
//    concatenated. It is counted, and VmapSpec::allow_fallback = false makes it an error.
#include "transforms/vmap.h"

#include <fmt/format.h>

#include <algorithm>

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

// The fallback: the op on each sample's slices, the results stacked along a new batch dim.
BValue per_sample(BatchCtx& ctx, const Node& n, std::span<const BValue> in) {
  Builder& b = ctx.b;
  Shape out = n.type.shape;
  out.insert(out.begin(), 1);
  std::vector<ValueId> parts;
  for (int64_t s = 0; s < ctx.batch; ++s) {
    std::vector<ValueId> ops;
    for (const BValue& v : in) {
      if (!v.batched) {
        ops.push_back(v.id);
        continue;
      }
      ValueId one = b.op(OpId::Slice, {v.id}, {{"dim", int64_t(0)}, {"start", s}, {"stop", s + 1}, {"step", int64_t(1)}});
      ops.push_back(b.op(OpId::Reshape, {one}, {{"shape", ctx.sample_shape(v)}}));
    }
    parts.push_back(b.op(OpId::Reshape, {b.op(n.op, ops, n.attrs)}, {{"shape", out}}));
  }
  if (parts.empty()) {  // an empty batch: zeros of shape [0, ...]
    ValueId zero = b.op(OpId::Constant, {}, is_float(n.type.dtype) ? Attrs{{"dtype", n.type.dtype}, {"value", 0.0}}
                                                                   : Attrs{{"dtype", n.type.dtype}, {"value", int64_t(0)}});
    Shape ones(out.size(), 1), empty = out;
    empty[0] = 0;
    return {b.op(OpId::Expand, {b.op(OpId::Reshape, {zero}, {{"shape", ones}})}, {{"shape", empty}}), true};
  }
  return {parts.size() == 1 ? parts[0] : b.op(OpId::Concat, parts, {{"dim", int64_t(0)}}), true};
}

}  // namespace

bool needs_fallback(const Function& f, const VmapSpec& spec) {
  std::vector<bool> batched(f.num_values(), false);
  for (size_t i = 0; i < f.params.size() && i < spec.in_dims.size(); ++i) batched[i] = spec.in_dims[i].has_value();
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    const OpInfo& info = op_info(n.op);
    bool any = info.cls == OpClass::Random && spec.randomness == RandomMode::Different;
    for (ValueId v : n.operands) any |= batched[v];
    batched[f.value_of_node(i)] = any;
    if (any && !info.batch && info.cls != OpClass::Random) return true;
  }
  return false;
}

Function vmap(const Function& f, const VmapSpec& spec) {
  if (spec.in_dims.size() != f.params.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: in_dims has {} entries but the function takes {} inputs",
                            spec.context, spec.in_dims.size(), f.params.size()));
  if (spec.out_dims.size() != f.outputs.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: out_dims has {} entries but the function returns {} outputs",
                            spec.context, spec.out_dims.size(), f.outputs.size()));
  // Nothing mapped (jit::compile, grad): no batch, so random ops just draw, whatever the mode.
  bool mapped = std::any_of(spec.in_dims.begin(), spec.in_dims.end(),
                            [](const std::optional<int64_t>& d) { return d.has_value(); });
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
    if (info.cls == OpClass::Random && mapped) {
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
    BValue r;
    if (info.batch) {
      r = info.batch(ctx, n, in);
    } else {
      if (!spec.allow_fallback)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: op '{}' has no batching rule and the per-sample fallback is "
                                "disabled", spec.context, info.name));
      if (spec.batch_size == kDyn)
        throw Error(ErrorKind::Verify,
                    fmt::format("internal error: the per-sample fallback for '{}' needs a static "
                                "batch size", info.name));
      r = per_sample(ctx, n, in);
      if (spec.fallbacks) ++*spec.fallbacks;
    }
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
