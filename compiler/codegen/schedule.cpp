// codegen/schedule.cpp: fusion decisions and grouping.
#include "codegen/schedule.h"

#include <fmt/format.h>

#include <algorithm>

namespace jit::cg {
namespace {

// A tile's scratch and batched arguments: what its groups pass between them and re-read.
// In L1 (each pass over a tile reads the last one's results at L1's bandwidth), unless the body
// also reads unbatched values (packed weights, captured tensors) of more than a quarter of
// that: every tile re-reads them, so such a body takes tiles of 192 KiB (within L2) instead.
// (A sample of more than 2 KiB then makes a tile of fewer than 16: lanes along the batch are
// no wider than the tile.)
constexpr int64_t kTileBytesL1 = 32 * 1024;
constexpr int64_t kTileBytesL2 = 192 * 1024;
constexpr int64_t kRecomputeLimit = 4;      // inline subtree cost above which a shared value is stored

bool is_batched(const ir::Type& t) { return t.has_dyn(); }

}  // namespace

int64_t op_cost(ir::OpId op) {
  switch (op) {
    case ir::OpId::Exp: case ir::OpId::Log: case ir::OpId::Log1p: case ir::OpId::Expm1:
    case ir::OpId::Tanh: case ir::OpId::Sigmoid: case ir::OpId::Gelu: case ir::OpId::Erf:
    case ir::OpId::Sin: case ir::OpId::Cos: case ir::OpId::Tan: case ir::OpId::Pow:
    case ir::OpId::Rand: case ir::OpId::Randn:
      return 10;
    default: break;
  }
  switch (ir::op_info(op).cls) {
    case ir::OpClass::Layout: case ir::OpClass::Source: return 0;
    case ir::OpClass::Reduction: case ir::OpClass::Contraction: return 100;
    default: return 1;
  }
}

namespace {

int64_t sample_bytes(const ir::Type& t) {
  int64_t n = dtype_size(t.dtype);
  for (int64_t d : t.shape) n *= d == ir::kDyn ? 1 : d;
  return n;
}

int64_t align64(int64_t x) { return (x + 63) / 64 * 64; }

// The dims 0..rank-1 in memory order with `inner` moved innermost.
std::vector<int> with_innermost(int64_t rank, int64_t inner) {
  std::vector<int> order;
  for (int d = 0; d < rank; ++d)
    if (d != inner) order.push_back(d);
  order.push_back(static_cast<int>(inner));
  return order;
}

// Per value: whether captured tensors and constants alone determine it (see schedule()). A
// node returned as an output is not: it is stored in the output, which the per-call prologue
// writes after the fixed values are computed, so what reads it back is per call too.
std::vector<bool> fixable_values(const ir::Function& f) {
  std::vector<bool> fixable(f.num_values(), false);
  for (size_t i = 0; i < f.params.size(); ++i) fixable[i] = f.params[i].captured;
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const ir::Node& n = f.nodes[i];
    ir::ValueId v = f.value_of_node(i);
    bool ok = ir::op_info(n.op).cls != ir::OpClass::Random && n.op != ir::OpId::IndexSelect &&
              n.op != ir::OpId::Gather && n.op != ir::OpId::ScatterAdd &&
              std::find(f.outputs.begin(), f.outputs.end(), v) == f.outputs.end();
    for (ir::ValueId o : n.operands) ok = ok && fixable[o];
    fixable[v] = ok;
  }
  return fixable;
}

// Moves the prologue's groups of fixable values to `fixed` (their buffers, numbered anew, to the
// fixed block).
void fix_constant_captures(Schedule& s, const std::vector<bool>& fixable) {
  std::vector<Group> per_call;
  for (const Group& g : s.prologue) {
    Buffer& b = s.buffers[g.buffer];
    if (b.kind == BufKind::Hoisted && fixable[g.root]) {
      b.kind = BufKind::Fixed;
      s.fixed.push_back(g);
    } else {
      per_call.push_back(g);
    }
  }
  s.prologue = std::move(per_call);
  int hoisted = 0, fixed = 0;
  for (Buffer& b : s.buffers)
    if (b.kind == BufKind::Hoisted || b.kind == BufKind::Fixed) b.index = b.kind == BufKind::Fixed ? fixed++ : hoisted++;
}

}  // namespace

Schedule schedule(const ir::Function& f, const TargetInfo& t, bool fuse, const std::vector<bool>& contiguous,
                  bool constant_captures) {
  Schedule s;
  int32_t nv = f.num_values();
  s.num_params = static_cast<int>(f.params.size());
  s.num_outputs = static_cast<int>(f.outputs.size());
  s.buffer_of.assign(nv, -1);
  std::vector<int32_t> uses = f.use_counts();
  std::vector<bool> feeds_batched(nv, false), same_shape_single_use(nv, false), reused(nv, false);
  for (const ir::Node& n : f.nodes)
    for (ir::ValueId v : n.operands)
      if (is_batched(n.type)) feeds_batched[v] = true;
  // A value a consumer reads more than once per element it computes: a contraction operand
  // that meets more than one element of the other operand, or a broadcast operand.
  for (const ir::Node& n : f.nodes) {
    if (n.op == ir::OpId::DotGeneral) {
      for (int k = 0; k < 2; ++k) {
        const ir::Type& other = f.type(n.operands[1 - k]);
        const Shape& b = n.attrs.get_ints(k ? "batch_lhs" : "batch_rhs");
        const Shape& c = n.attrs.get_ints(k ? "contract_lhs" : "contract_rhs");
        int64_t meets = 1;
        for (int64_t d = 0; d < other.rank(); ++d)
          if (std::find(b.begin(), b.end(), d) == b.end() && std::find(c.begin(), c.end(), d) == c.end())
            meets *= other.shape[d] == ir::kDyn ? 2 : other.shape[d];
        if (meets > 1) reused[n.operands[k]] = true;
      }
    } else if (ir::op_info(n.op).cls == ir::OpClass::Elementwise) {
      for (ir::ValueId v : n.operands)
        if (f.type(v).shape != n.type.shape) reused[v] = true;
    }
  }
  // A value whose single consumer is elementwise over the same shape is read once per element.
  std::vector<ir::ValueId> consumer(nv, -1);
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const ir::Node& n = f.nodes[i];
    if (ir::op_info(n.op).cls == ir::OpClass::Elementwise)
      for (ir::ValueId v : n.operands)
        if (uses[v] == 1 && f.type(v).shape == n.type.shape) {
          same_shape_single_use[v] = true;
          consumer[v] = f.value_of_node(i);
        }
  }

  for (size_t i = 0; i < f.params.size(); ++i) {
    s.buffers.push_back({BufKind::Param, static_cast<int>(i), f.params[i].type});
    s.buffer_of[i] = static_cast<int>(i);
  }
  std::vector<int> out_buffer(f.outputs.size());
  for (size_t k = 0; k < f.outputs.size(); ++k) {
    out_buffer[k] = static_cast<int>(s.buffers.size());
    s.buffers.push_back({BufKind::Output, static_cast<int>(k), f.type(f.outputs[k])});
  }
  // Packing: contractions against an unbatched operand (see 4. in the header).
  std::vector<std::vector<int>> pack_order(nv), result_order(nv);
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const ir::Node& n = f.nodes[i];
    if (n.op != ir::OpId::DotGeneral || !is_batched(n.type)) continue;
    for (int k = 0; k < 2; ++k) {
      ir::ValueId u = n.operands[k];
      const ir::Type& ut = f.type(u);
      if (is_batched(ut)) continue;
      const Shape& b = n.attrs.get_ints(k ? "batch_rhs" : "batch_lhs");
      const Shape& c = n.attrs.get_ints(k ? "contract_rhs" : "contract_lhs");
      std::vector<int64_t> free;
      for (int64_t d = 0; d < ut.rank(); ++d)
        if (std::find(b.begin(), b.end(), d) == b.end() && std::find(c.begin(), c.end(), d) == c.end())
          free.push_back(d);
      if (free.empty()) continue;
      int64_t best = free.back();
      for (int64_t d : free)
        if (ut.shape[d] > ut.shape[best]) best = d;
      if (ut.shape[best] < 8) continue;
      // A row-major parameter whose innermost dim is that one is read as it is: its copy
      // would be the same layout, a pass over it every call (x W with W [64, 128] at batch
      // 1: 1.5-1.9 -> 0.3 us). A strided one is copied (dense, its strides known).
      bool in_order = best == ut.rank() - 1 && f.is_param(u) && (contiguous.empty() || contiguous[u]);
      if (pack_order[u].empty() && !in_order) pack_order[u] = with_innermost(ut.rank(), best);
      // The result's dim that `best` becomes: [batch..., lhs free..., rhs free...].
      const ir::Type& lt = f.type(n.operands[0]);
      const Shape& bl = n.attrs.get_ints("batch_lhs");
      const Shape& cl = n.attrs.get_ints("contract_lhs");
      int64_t lhs_free = lt.rank() - static_cast<int64_t>(bl.size() + cl.size());
      int64_t pos = static_cast<int64_t>(b.size()) + (k ? lhs_free : 0) +
                    (std::find(free.begin(), free.end(), best) - free.begin());
      result_order[f.value_of_node(i)] = with_innermost(n.type.rank(), pos);
      break;
    }
  }
  // Packing for reductions: an unbatched parameter met elementwise under a reduction that
  // reduces its innermost dim (the distances from each sample to a set of points) is packed
  // with its largest kept dim innermost, so the lanes can run along that dim of the result
  // with contiguous loads instead of folding a short reduced dim horizontally.
  for (const ir::Node& n : f.nodes) {
    if (!is_batched(n.type) || (n.op != ir::OpId::Sum && n.op != ir::OpId::Prod && n.op != ir::OpId::Max &&
                                n.op != ir::OpId::Min))
      continue;
    const ir::Type& in = f.type(n.operands[0]);
    const Shape& dims = n.attrs.get_ints("dims");
    auto reduced = [&](int64_t d) { return std::find(dims.begin(), dims.end(), d) != dims.end(); };
    // Elementwise operands broadcast right-aligned, so a value of rank r under the reduction
    // has its dim p at dim in.rank() - r + p of the reduction's input.
    std::vector<ir::ValueId> todo{n.operands[0]};
    while (!todo.empty()) {
      ir::ValueId v = todo.back();
      todo.pop_back();
      const ir::Type& vt = f.type(v);
      if (!f.is_param(v)) {
        if (ir::op_info(f.node_of(v).op).cls == ir::OpClass::Elementwise)
          for (ir::ValueId o : f.node_of(v).operands) todo.push_back(o);
        continue;
      }
      int64_t off = in.rank() - vt.rank(), inner = vt.rank() - 1;
      if (is_batched(vt) || vt.rank() < 2 || !pack_order[v].empty() || !reduced(off + inner) || vt.shape[inner] < 2)
        continue;
      int64_t best = -1;
      for (int64_t p = 0; p < inner; ++p)
        if (!reduced(off + p) && vt.shape[p] >= 8 && (best < 0 || vt.shape[p] > vt.shape[best])) best = p;
      if (best >= 0) pack_order[v] = with_innermost(vt.rank(), best);
    }
  }
  // A reduction whose innermost reduced dim is innermost in memory in every operand that has it
  // runs its vector lanes along that dim and folds them: it makes one value at a time, so an
  // elementwise consumer inlined over it would run one element at a time too. When that
  // consumer is costly (a transcendental: tanh of a matrix-vector product, the log of a
  // logsumexp), the reduction is stored instead and the consumer gets vector lanes of its own.
  auto innermost_in_memory = [&](ir::ValueId u, int64_t d) {
    const ir::Type& ut = f.type(u);
    if (!pack_order[u].empty()) return pack_order[u].back() == d;
    return d == ut.rank() - 1;
  };
  auto folds_lanes = [&](const ir::Node& n) {
    if (n.op == ir::OpId::DotGeneral) {
      const Shape &cl = n.attrs.get_ints("contract_lhs"), &cr = n.attrs.get_ints("contract_rhs");
      if (cl.empty() || f.type(n.operands[0]).shape[cl.back()] < 8) return false;
      return innermost_in_memory(n.operands[0], cl.back()) && innermost_in_memory(n.operands[1], cr.back());
    }
    if (n.op != ir::OpId::Sum && n.op != ir::OpId::Prod && n.op != ir::OpId::Max && n.op != ir::OpId::Min)
      return false;
    const Shape& dims = n.attrs.get_ints("dims");
    const ir::Type& in = f.type(n.operands[0]);
    return !dims.empty() && in.shape[dims.back()] >= 8 && innermost_in_memory(n.operands[0], dims.back());
  };
  // A contraction whose lanes run over its outputs (they do not fold) and whose contracted
  // extent is long: as a group of its own it is register-blocked (jammed, several independent
  // multiply-add chains), but computed inline under an elementwise consumer it runs one chain
  // per vector, bound by the FMA latency. Per-sample 64 x 64 matmuls + a (x 2048): 15-16 ms
  // inline, 9-10 ms stored (the consumer reads it back from the tile's scratch), 6-7 ms for
  // the matmul alone.
  auto blocked_chain = [&](const ir::Node& n) {
    if (n.op != ir::OpId::DotGeneral || folds_lanes(n)) return false;
    int64_t k = 1;
    for (int64_t d : n.attrs.get_ints("contract_lhs")) k *= f.type(n.operands[0]).shape[d];
    return k >= 8;
  };
  auto costly_consumers = [&](ir::ValueId v) {
    for (ir::ValueId c = consumer[v]; c >= 0; c = consumer[c])
      if (op_cost(f.node_of(c).op) >= 10) return true;
    return false;
  };
  // Constant captures: values the captures alone determine, met by per-call work.
  std::vector<bool> fixed_for_per_call(nv, false), fixable;
  if (constant_captures) {
    fixable = fixable_values(f);
    for (size_t i = 0; i < f.nodes.size(); ++i)
      if (!fixable[f.value_of_node(i)])
        for (ir::ValueId o : f.nodes[i].operands) fixed_for_per_call[o] = fixable[o] && !f.is_param(o);
  }
  std::vector<int64_t> cost(nv, 0);  // of computing a value inline, up to stored values
  int hoisted = 0, scratch = 0;
  std::vector<Group> param_copies;
  for (size_t i = 0; i < f.params.size(); ++i) {
    if (pack_order[i].empty()) continue;
    s.buffer_of[i] = static_cast<int>(s.buffers.size());
    s.buffers.push_back({BufKind::Hoisted, hoisted++, f.params[i].type, 0, pack_order[i]});
    param_copies.push_back({static_cast<ir::ValueId>(i), s.buffer_of[i]});
  }
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const ir::Node& n = f.nodes[i];
    ir::ValueId v = f.value_of_node(i);
    ir::OpClass cls = ir::op_info(n.op).cls;
    int64_t c = op_cost(n.op);
    for (ir::ValueId o : n.operands) c += s.buffer_of[o] >= 0 ? 0 : cost[o];
    cost[v] = c;
    auto out_it = std::find(f.outputs.begin(), f.outputs.end(), v);
    bool store;
    if (out_it != f.outputs.end()) {
      s.buffer_of[v] = out_buffer[out_it - f.outputs.begin()];
      continue;
    } else if (!fuse) {
      store = true;
    } else if (n.op == ir::OpId::ScatterAdd) {
      store = true;
    } else if (fixed_for_per_call[v] && c > 0 && !is_batched(n.type)) {
      store = true;  // computed once (fixed), not every call (free layout ops fall through: a pack)
    } else if (cls == ir::OpClass::Reduction || cls == ir::OpClass::Contraction) {
      store = !same_shape_single_use[v] || (folds_lanes(n) && costly_consumers(v)) || blocked_chain(n);
    } else if (!pack_order[v].empty()) {
      store = true;
    } else if (!is_batched(n.type) && feeds_batched[v]) {
      store = c > 0;  // hoisted work is done once per call, not once per element
    } else {
      store = (uses[v] > 1 && c > kRecomputeLimit) || (reused[v] && c > 1);
    }
    if (!store) continue;
    s.buffer_of[v] = static_cast<int>(s.buffers.size());
    if (is_batched(n.type))
      s.buffers.push_back({BufKind::Scratch, scratch++, n.type, 0, result_order[v]});
    else
      s.buffers.push_back({BufKind::Hoisted, hoisted++, n.type, 0, pack_order[v]});
  }
  s.prologue = param_copies;
  // Groups, in order: packed parameters, every stored node, then output copies (an output that
  // is a parameter, or the same value returned twice).
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    ir::ValueId v = f.value_of_node(i);
    if (s.buffer_of[v] < 0) continue;
    (is_batched(f.type(v)) ? s.body : s.prologue).push_back({v, s.buffer_of[v]});
  }
  for (size_t k = 0; k < f.outputs.size(); ++k) {
    ir::ValueId v = f.outputs[k];
    if (s.buffer_of[v] == out_buffer[k]) continue;

    (is_batched(f.type(v)) ? s.body : s.prologue).push_back({v, out_buffer[k]});
  }
  // An output holding a value that another node uses, or that is returned again (the copy
  // reads it), is read back; the others are only written.
  for (size_t k = 0; k < f.outputs.size(); ++k) {
    ir::ValueId v = f.outputs[k];
    Buffer& b = s.buffers[out_buffer[k]];
    if (!is_batched(b.type)) continue;
    s.output_sample_bytes += sample_bytes(b.type);
    b.streamable = s.buffer_of[v] != out_buffer[k] || uses[v] == 1;
  }
  if (constant_captures) fix_constant_captures(s, fixable);
  // Memory: hoisted values once per call (fixed ones once), scratch per tile. A tile's batched arguments count
  // toward its size too: a group may read them many times (a contraction with few outputs and
  // a long contracted dim reads each sample's row once per output), and a tile sized by the
  // scratch alone (40 bytes per sample there) would stream megabytes from L3 for every pass.
  int64_t per_sample = 0;
  for (Buffer& b : s.buffers)
    if (b.kind == BufKind::Scratch || (b.kind == BufKind::Param && is_batched(b.type)))
      per_sample += sample_bytes(b.type);
  // Unbatched bytes: hoisted values, and captured arguments read as they are (a packed one's
  // copy is hoisted; a hoisted value only the prologue reads counts too, an overestimate).
  // Unpadded (the padding of short packed rows, below, is decided after the tile): the bytes
  // of data the body reads, not of the cache lines it touches.
  int64_t unbatched = 0;
  for (size_t i = 0; i < s.buffers.size(); ++i) {
    const Buffer& b = s.buffers[i];
    bool read_as_is = b.kind == BufKind::Param && !is_batched(b.type) && s.buffer_of[i] == static_cast<int>(i);
    bool hoisted_kind = b.kind == BufKind::Hoisted || b.kind == BufKind::Fixed;
    if (hoisted_kind || read_as_is) unbatched += ir::checked_numel(b.type.shape) * dtype_size(b.type.dtype);
  }
  int64_t budget = unbatched * 4 > kTileBytesL1 ? kTileBytesL2 : kTileBytesL1;
  s.tile = per_sample == 0 ? (int64_t(1) << 40) : std::max<int64_t>(1, budget / per_sample);
  // Whole steps of the contractions' jam along the batch (steps of 8, then one of 4, or steps
  // of 4): fewer than 4 samples past a tile's last step run one at a time, each a single
  // chain of dependent multiply-adds (a 10-output layer over 128 inputs: 128 x 4 cycles a
  // sample). Tiles of 59 left 3 such samples in each: 16 of 256, a quarter of the layer's time
  // (10.3 -> 8.6 us at batch 256 on 1 thread, with tiles of 56).
  if (s.tile >= 64)
    s.tile = s.tile / 16 * 16;
  else if (s.tile >= 8)
    s.tile = s.tile / 4 * 4;
  for (Buffer& b : s.buffers) {
    if (b.kind == BufKind::Hoisted || b.kind == BufKind::Fixed) {
      int64_t& bytes = b.kind == BufKind::Fixed ? s.fixed_bytes : s.hoisted_bytes;
      b.offset = bytes;
      // A packed value's rows of more than half a vector register but less than one are
      // padded to one (rows of 10 floats: 64 bytes, not 40, so no load or store of a row
      // straddles two cache lines). The pad is never read as data: a row's lanes past its
      // extent are masked off where it is loaded.
      int64_t numel = ir::checked_numel(b.type.shape);
      const int64_t lanes = t.vector_bytes / dtype_size(b.type.dtype);
      if (!b.order.empty() && lanes > 1) {
        const int64_t n = b.type.shape[b.order.back()];
        if (2 * n > lanes && n < lanes) {
          b.padded_inner = lanes;
          numel = numel / n * lanes;
        }
      }
      bytes += align64(numel * dtype_size(b.type.dtype));
    } else if (b.kind == BufKind::Scratch) {
      b.offset = s.scratch_bytes;
      s.scratch_bytes += align64(sample_bytes(b.type) * s.tile);
    }
  }
  return s;
}

std::string print(const ir::Function& f, const Schedule& s) {
  auto where = [&](int b) {
    const Buffer& buf = s.buffers[b];
    const char* k = buf.kind == BufKind::Param ? "param" : buf.kind == BufKind::Output ? "output"
                    : buf.kind == BufKind::Hoisted ? "hoisted" : buf.kind == BufKind::Fixed ? "fixed" : "scratch";
    return fmt::format("{}[{}]", k, buf.index);
  };
  // The inline values a group computes: reachable from its root without crossing stored ones.
  auto members = [&](ir::ValueId root) {
    std::vector<ir::ValueId> out, stack{root};
    std::vector<bool> seen(f.num_values(), false);
    while (!stack.empty()) {
      ir::ValueId v = stack.back();
      stack.pop_back();
      if (f.is_param(v) || seen[v]) continue;
      seen[v] = true;
      if (v != root) {
        if (s.buffer_of[v] >= 0) continue;
        out.push_back(v);
      }
      for (ir::ValueId o : f.node_of(v).operands) stack.push_back(o);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::string r = fmt::format("// tile: {} samples, scratch {} bytes per tile, hoisted {} bytes",
                              s.tile >= (int64_t(1) << 40) ? std::string("all") : std::to_string(s.tile),
                              s.scratch_bytes, s.hoisted_bytes);
  if (!s.fixed.empty()) r += fmt::format(", fixed {} bytes", s.fixed_bytes);
  r += "\n";
  for (const auto* list : {&s.fixed, &s.prologue, &s.body}) {
    if (list == &s.fixed && list->empty()) continue;
    r += list == &s.fixed ? "fixed:\n" : list == &s.prologue ? "prologue:\n" : "body:\n";
    for (const Group& g : *list) {
      const Buffer& buf = s.buffers[g.buffer];
      r += fmt::format("  group %{} -> {} {}", g.root, where(g.buffer), ir::to_string(buf.type));
      if (!buf.order.empty()) r += fmt::format(" order [{}]", fmt::join(buf.order, ","));
      std::vector<ir::ValueId> m = members(g.root);
      if (!m.empty()) {
        r += " inline:";
        for (ir::ValueId v : m) r += fmt::format(" %{}", v);
      }
      r += "\n";
    }
  }
  return r;
}

}  // namespace jit::cg
