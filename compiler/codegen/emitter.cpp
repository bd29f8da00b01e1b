// codegen/emitter.cpp: functions, groups and their loop nests, and the evaluation of inline values.
#include "codegen/emitter.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Module.h>

#include <cassert>
#include <cmath>
#include <numeric>

namespace jit::cg {

// ---- index dims --------------------------------------------------------------------------------

IndexDim IndexDim::var(int v, int64_t coef) {
  IndexDim d;
  if (coef) d.terms.push_back({v, coef});
  return d;
}

IndexDim IndexDim::scaled(int64_t k) const {
  assert(!dynamic);
  IndexDim d;
  d.c = c * k;
  if (k)
    for (auto [v, a] : terms) d.terms.push_back({v, a * k});
  return d;
}

IndexDim IndexDim::plus(const IndexDim& o) const {
  assert(!dynamic && !o.dynamic);
  IndexDim d;
  d.c = c + o.c;
  size_t i = 0, j = 0;
  while (i < terms.size() || j < o.terms.size()) {
    if (j == o.terms.size() || (i < terms.size() && terms[i].first < o.terms[j].first)) {
      d.terms.push_back(terms[i++]);
    } else if (i == terms.size() || o.terms[j].first < terms[i].first) {
      d.terms.push_back(o.terms[j++]);
    } else {
      int64_t a = terms[i].second + o.terms[j].second;
      if (a) d.terms.push_back({terms[i].first, a});
      ++i, ++j;
    }
  }
  return d;
}

int64_t IndexDim::coef(int var) const {
  for (auto [v, a] : terms)
    if (v == var) return a;
  return 0;
}

// ---- construction --------------------------------------------------------------------------------

Emitter::Emitter(const ir::Function& f, const Schedule& s, const TargetInfo& t,
                 const std::vector<bool>& contiguous, llvm::Module& m)
    : f_(f), s_(s), target_(t), contiguous_(contiguous), m_(m), ctx_(m.getContext()),
      b_(std::make_unique<llvm::IRBuilder<>>(ctx_)) {
  llvm::Type* ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx_);
  args_type_ = llvm::StructType::create(ctx_, {ptr, ptr, ptr, ptr, i64, i64, i64, ptr, ptr}, "KernelArgs");
}

void Emitter::emit(const std::string& name) {
  // No prologue function when nothing is hoisted: even an empty function costs LLVM's machine
  // code pipeline a few milliseconds.
  if (!s_.fixed.empty()) emit_function(name + "_fixed", s_.fixed, false);
  if (!s_.prologue.empty()) emit_function(name + "_prologue", s_.prologue, false);
  emit_function(name + "_body", s_.body, true);
}

llvm::Value* Emitter::arg_field(int i) {
  llvm::Type* t = args_type_->getElementType(i);
  return b_->CreateLoad(t, b_->CreateStructGEP(args_type_, args_, i));
}

llvm::Value* Emitter::seed() { return arg_field(4); }
llvm::Value* Emitter::call_number() { return arg_field(5); }

void Emitter::flag_error(llvm::Value* cond) {
  if (analyzing_) return;
  if (cond->getType()->isVectorTy()) cond = b_->CreateOrReduce(cond);
  auto* set = llvm::BasicBlock::Create(ctx_, "index.error", fn_);
  auto* cont = llvm::BasicBlock::Create(ctx_, "index.ok", fn_);
  b_->CreateCondBr(cond, set, cont);
  b_->SetInsertPoint(set);
  // Threads may set it together: an atomic store.
  auto* st = b_->CreateStore(b_->getInt32(1), arg_field(7));
  st->setAtomic(llvm::AtomicOrdering::Monotonic);
  st->setAlignment(llvm::Align(4));
  b_->CreateBr(cont);
  b_->SetInsertPoint(cont);
}

void Emitter::emit_function(const std::string& name, const std::vector<Group>& groups, bool body) {
  llvm::Type* ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Type* i64 = b_->getInt64Ty();
  std::vector<llvm::Type*> params{ptr};
  if (body) params.insert(params.end(), {i64, i64});
  auto* ft = llvm::FunctionType::get(b_->getVoidTy(), params, false);
  fn_ = llvm::Function::Create(ft, llvm::Function::ExternalLinkage, name, m_);
  fn_->addFnAttr("target-cpu", target_.cpu);
  fn_->addFnAttr("target-features", target_.features);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  b_->SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn_));
  args_ = fn_->getArg(0);
  setup_buffers(body);
  if (!body) {
    for (const Group& g : groups) emit_group(g);
    b_->CreateRetVoid();
    return;
  }
  // The body walks [begin, end) in tiles; scratch buffers hold one tile.
  llvm::Value* begin = fn_->getArg(1);
  llvm::Value* end = fn_->getArg(2);
  int64_t tile = s_.tile;
  loop_range(begin, end, tile, [&](llvm::Value* t0) {
    tile_begin_ = t0;
    llvm::Value* t1 = b_->CreateAdd(t0, b_->getInt64(std::min<int64_t>(tile, int64_t(1) << 40)));
    tile_end_ = b_->CreateSelect(b_->CreateICmpSLT(t1, end), t1, end);
    // Scratch buffers are indexed by the absolute sample: rebase them to this tile.
    for (size_t i = 0; i < s_.buffers.size(); ++i) {
      const Buffer& buf = s_.buffers[i];
      if (buf.kind != BufKind::Scratch) continue;
      int64_t bd = -1;
      for (int64_t d = 0; d < buf.type.rank(); ++d)
        if (buf.type.shape[d] == ir::kDyn) bd = d;
      llvm::Value* base = b_->CreateGEP(b_->getInt8Ty(), arg_field(3), b_->getInt64(buf.offset));
      llvm::Value* shift = b_->CreateMul(t0, b_->getInt64(views_[i].strides[bd].coef));
      views_[i].base = b_->CreateGEP(scalar_type(buf.type.dtype), base, b_->CreateNeg(shift));
    }
    for (const Group& g : groups) emit_group(g);
  }, /*partial_last=*/true);
  if (streamed_) {
    // Streaming stores are weakly ordered: fence them before the runtime reports this range
    // done (a release another thread acquires does not order them).
    auto* fence = llvm::BasicBlock::Create(ctx_, "stream.fence", fn_);
    auto* done = llvm::BasicBlock::Create(ctx_, "done", fn_);
    b_->CreateCondBr(stream_, fence, done);
    b_->SetInsertPoint(fence);
    b_->CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
    b_->CreateBr(done);
    b_->SetInsertPoint(done);
  }
  b_->CreateRetVoid();
}

void Emitter::setup_buffers(bool body) {
  setup_alias_scopes();
  views_.assign(s_.buffers.size(), {});
  int64_t stride_off = 0;
  // Stores of whole cache lines stream past the caches (x86's MOVNT, at line-aligned addresses)
  // when the call's outputs are too big to stay in them: they skip reading each line before
  // writing it, a third of the memory traffic of a copy. Smaller outputs are cached, for whoever
  // reads them next, and so are outputs the kernel reads back. Not in the quick tier (the same
  // bits either way).
  stream_ = nullptr, streamed_ = false;
  if (body && !target_.quick && s_.output_sample_bytes > 0 && llvm::StringRef(target_.triple).starts_with("x86_64"))
    stream_ = b_->CreateICmpSGE(b_->CreateMul(arg_field(6), b_->getInt64(s_.output_sample_bytes)),
                                b_->getInt64(kStreamBytes));
  for (size_t i = 0; i < s_.buffers.size(); ++i) {
    const Buffer& buf = s_.buffers[i];
    BufferView& v = views_[i];
    v.dtype = buf.type.dtype;
    int64_t rank = buf.type.rank();
    v.strides.assign(rank, {});
    v.runtime_strides.assign(rank, nullptr);
    bool external = buf.kind == BufKind::Param || buf.kind == BufKind::Output;
    int slot = buf.kind == BufKind::Output ? s_.num_params + buf.index : buf.index;
    if (external) {
      v.base = b_->CreateLoad(b_->getPtrTy(), b_->CreateConstGEP1_64(b_->getPtrTy(), arg_field(0), slot));
      v.stream = stream_ && buf.kind == BufKind::Output && buf.streamable;
    } else if (buf.kind == BufKind::Hoisted || buf.kind == BufKind::Fixed) {
      v.base = b_->CreateGEP(b_->getInt8Ty(), arg_field(buf.kind == BufKind::Fixed ? 8 : 2), b_->getInt64(buf.offset));
    }
    if (external && !contiguous_[slot]) {
      for (int64_t d = 0; d < rank; ++d) {
        v.strides[d].runtime = true;
        v.runtime_strides[d] = b_->CreateLoad(
            b_->getInt64Ty(), b_->CreateConstGEP1_64(b_->getInt64Ty(), arg_field(1), stride_off + d));
      }
    } else {
      // Dense in memory order (row-major unless the buffer says otherwise); a batch dim counts
      // the batch size (or the tile, in scratch).
      std::vector<int> order = buf.order;
      if (order.empty())
        for (int d = 0; d < rank; ++d) order.push_back(d);
      int64_t coef = 1;
      bool times_batch = false;
      for (int64_t k = rank; k-- > 0;) {
        int d = order[k];
        v.strides[d] = {coef, times_batch, false};
        int64_t n = k == rank - 1 && buf.padded_inner > 0 ? buf.padded_inner : buf.type.shape[d];
        if (n == ir::kDyn) {
          if (buf.kind == BufKind::Scratch)
            coef *= s_.tile;
          else
            times_batch = true;
        } else {
          coef *= n;
        }
      }
    }
    if (external) stride_off += rank;
  }
}

llvm::Value* Emitter::stride_value(int buffer, int dim) {
  const BufferView& v = views_[buffer];
  const Stride& s = v.strides[dim];
  if (s.runtime) return v.runtime_strides[dim];
  llvm::Value* c = b_->getInt64(s.coef);
  return s.times_batch ? b_->CreateMul(c, arg_field(6)) : c;
}

// ---- values --------------------------------------------------------------------------------------

llvm::Value* Emitter::eval(ir::ValueId v, const Index& at) {
  if (eval_depth_ == 0) exp_memo_.clear();  // a new step: earlier values need not dominate it
  struct Depth {
    int& d;
    ~Depth() { --d; }
  } depth{++eval_depth_};
  return eval_node(v, at);
}

llvm::Value* Emitter::shared_exp(ir::ValueId x, const Index& at, const std::function<llvm::Value*()>& make) {
  if (!share_exp_ || eval_depth_ == 0) return make();
  for (const SharedExp& s : exp_memo_)
    if (s.x == x && s.at == at) return s.exp;
  llvm::Value* r = make();
  exp_memo_.push_back({x, at, r});
  return r;
}

llvm::Value* Emitter::eval_node(ir::ValueId v, const Index& at) {
  int buf = s_.buffer_of[v];
  if (buf >= 0 && v != current_root_) {
    if (flat_shape_ && f_.type(v).rank() > 0 && f_.type(v).shape != *flat_shape_)
      return periodic(buf, f_.type(v).static_numel());  // a flat group's unbatched row
    // A packed parameter (a copy with another dim innermost, made for a contraction or a
    // reduction) is read from the argument itself where the copy would take a gather for the
    // group's lanes and the argument does not: the backward pass's contraction of W2 along
    // the dim the forward one packed innermost. (Not for a reduction's own lanes along its
    // reduced dim: the packing was made so that the lanes run elsewhere.)
    if (f_.is_param(v) && buf != static_cast<int>(v) && width_ > 1 && !reduce_lanes_) {
      auto gathers = [&](int b) { int64_t l = lane_step(b, at); return l != 0 && l != 1; };
      if (gathers(buf) && !gathers(static_cast<int>(v))) buf = static_cast<int>(v);
    }
    return load(buf, at);
  }
  if (f_.is_param(v)) return load(static_cast<int>(v), at);  // a parameter being copied
  ir::ValueId saved = current_root_;
  current_root_ = -1;  // below the root, stored values are loaded
  const ir::Node& n = f_.node_of(v);
  llvm::Value* r = ir::op_info(n.op).lower(*this, n, at);
  current_root_ = saved;
  return r;
}

// ---- groups --------------------------------------------------------------------------------------

double Emitter::analyze(const Group& g, const std::vector<int64_t>& trips, int lane_dim, unsigned width) {
  bool saved_mode = analyzing_;
  analyzing_ = true;
  cost_ = 0;
  cost_scale_ = 1;
  size_t base = vars_.size();
  Index at;
  for (size_t d = 0; d < trips.size(); ++d) {
    vars_.push_back({nullptr, trips[d]});
    at.push_back(IndexDim::var(static_cast<int>(base + d)));
  }
  unsigned w = lane_dim < 0 ? 1 : width ? width : lane_width(g, trips[lane_dim]);
  width_ = w;
  lane_var_ = lane_dim >= 0 ? static_cast<int>(base + lane_dim) : -1;
  current_root_ = g.root;
  eval(g.root, at);
  store(g.buffer, at, nullptr);
  double per_element = cost_ / w;
  vars_.resize(base);
  analyzing_ = saved_mode;
  width_ = 1;
  lane_var_ = -1;
  current_root_ = -1;
  return per_element;
}

void Emitter::emit_group(const Group& g) {
  struct Share {
    bool& on;
    ~Share() { on = false; }
  } share{share_exp_ = !f_.is_param(g.root) && !group_ops(g).other};
  if (emit_transpose(g)) return;
  const ir::Type& t = s_.buffers[g.buffer].type;
  int64_t rank = t.rank();
  int batch_dim = -1;
  std::vector<int64_t> trips(rank);
  for (int64_t d = 0; d < rank; ++d) {
    trips[d] = t.shape[d];
    if (t.shape[d] == 0) return;  // nothing to compute
    if (t.shape[d] == ir::kDyn) {
      batch_dim = static_cast<int>(d);
      trips[d] = std::min<int64_t>(s_.tile, 1024);
    }
  }
  // A group of elementwise ops whose operands in memory are all dense row-major in its shape
  // [?, d1, ...] (or scalars) runs one loop over its tile's elements, b * inner + i, with the
  // lanes across row ends: rows of 3 or 10 floats ran their lanes along the batch, gathering
  // and scattering at the row's stride, and rows of 1000 took a masked step each. Elementwise
  // lanes are independent: the same bits.
  FlatLoop fl = flat_extent(g);
  int64_t flat = fl.inner;
  // Unbatched rows in such a group: lane l of a step at flat index f reads a row's element
  // (f + l) mod n. The loop runs blocks of `flat_block` steps that start at multiples of the
  // rows' sizes (lcm), whose steps each read a fixed pattern of the row, hoisted; the steps
  // after the last block gather theirs. Not in the quick tier (the block is flat_block copies
  // of the group's code: there the loop nest instead, the same bits).
  // (A tile may be every sample, 2^40: tile x inner would overflow.)
  const unsigned flat_w = flat ? lane_width(g, std::min<int64_t>(std::min<int64_t>(s_.tile, 1 << 20) * flat, 1 << 20)) : 0;
  int64_t flat_block = 1;
  if (flat && fl.period) {
    flat_block = fl.period / std::gcd<int64_t>(fl.period, flat_w);
    if (target_.quick || flat_block > 8) flat = 0;
  }
  struct FlatShape {
    const Shape*& s;
    int64_t& phase;
    ~FlatShape() { s = nullptr, phase = 0; }
  } flat_shape{flat_shape_ = flat && fl.period ? &t.shape : nullptr, flat_phase_};
  // The lane dim: the cheapest per element among the dims (and none).
  int lane_dim = flat ? static_cast<int>(rank) - 1 : -1;
  transpose_ = Transpose::Never;
  double best = flat ? 0 : analyze(g, trips, -1);
  // Transposed lanes (see reduce()): every reduction of the group reduces its outputs one by
  // one, at one register's width (more would only fold more trees at once, and leave more
  // outputs to the tail), or none does.
  bool transposed = false;
  for (int d = 0; d < rank && !flat; ++d) {
    if (trips[d] < 4) continue;
    transpose_ = Transpose::Decide;
    transposed_ = kept_lanes_ = false;
    double c = analyze(g, trips, d);
    bool tr = transposed_ && !kept_lanes_;
    transpose_ = tr ? Transpose::Always : Transpose::Never;
    if (transposed_) {
      unsigned w = lane_width(g, trips[d]);
      c = analyze(g, trips, d, tr ? std::min<unsigned>(w, vector_lanes()) : w);
    }
    if (c < best * 0.95) best = c, lane_dim = d, transposed = tr;
  }
  // The quick tier computes such outputs one by one at width 1 instead: the same bits (each
  // output reduced alone), a sixteenth of the code (a first call's compile is most of it).
  if (transposed && target_.quick) lane_dim = -1, transposed = false;
  transpose_ = transposed ? Transpose::Always : Transpose::Never;
  // Loops: every dim but the lane dim in order, then the lane dim (vector body, scalar tail).
  size_t base = vars_.size();
  vars_.resize(base + rank);
  Index at;
  // (Flat, the index is (0, ..., 0, f): the other dims' loop vars go unused.)
  for (int64_t d = 0; d < rank; ++d)
    at.push_back(flat && d != lane_dim ? IndexDim::constant(0) : IndexDim::var(static_cast<int>(base + d)));
  auto bounds = [&](int d) -> std::pair<llvm::Value*, llvm::Value*> {
    if (flat && d == lane_dim) return {b_->CreateMul(tile_begin_, b_->getInt64(flat)), b_->CreateMul(tile_end_, b_->getInt64(flat))};
    if (d == batch_dim) return {tile_begin_, tile_end_};
    return {b_->getInt64(0), b_->getInt64(t.shape[d])};
  };
  // The batch dim's lanes run over a tile of samples: no wider than the tile (a tile of 60
  // samples, each with kilobytes of inputs, would otherwise take one masked step of 64).
  unsigned w = flat               ? flat_w
               : lane_dim >= 0 ? lane_width(g, lane_dim == batch_dim ? std::min<int64_t>(s_.tile, 1 << 20) : trips[lane_dim])
                               : 1;
  if (transposed) w = std::min<unsigned>(w, vector_lanes());
  // Emits the loops over dims [d, rank) except the lane dim, and the lane loop innermost.
  // A contraction computes `jam` consecutive elements along another dim at once, so each load
  // of the lane operand serves them all (register blocking).
  int jam_dim = -1;
  bool contraction = is_contraction(g);
  // Where the lanes are one step of one register (a layer with few outputs), the jammed
  // elements' chains are the only independent ones: eight keep the multiply-add units busy
  // through its latency. (With several registers per step, 8 x k accumulators would spill.)
  const int64_t jam = contraction && lane_dim >= 0 && lane_dim != batch_dim && trips[lane_dim] <= w &&
                              w <= static_cast<unsigned>(vector_lanes())
                          ? 8
                          : 4;
  // Not in the quick tier: jamming shares loads, not arithmetic (the same bits without), and
  // multiplies the contraction's code by `jam`, which instruction selection pays for.
  if (lane_dim >= 0 && contraction && !transposed && !target_.quick)
    for (int d = static_cast<int>(rank) - 1; d >= 0 && jam_dim < 0; --d)
      if (d != lane_dim && (d == batch_dim || trips[d] >= jam)) jam_dim = d;
  // The root at `at`, or (jv >= 0) at the values of loop var jv in jam_values_ (`jam` of them,
  // or fewer in a step past the last whole one).
  auto compute = [&](int jv) {
    if (jv < 0) {
      store(g.buffer, at, eval(g.root, at));
      return;
    }
    const int64_t n = static_cast<int64_t>(jam_values_.size());
    jam_var_ = jv, jam_ = n;
    llvm::Value* r = eval(g.root, at);
    jam_var_ = -1, jam_ = 1;
    for (int64_t u = 0; u < n; ++u) {
      vars_[jv].value = jam_values_[u];
      store(g.buffer, at, b_->CreateExtractValue(r, static_cast<unsigned>(u)));
    }
    vars_[jv].value = jam_values_[0];
  };
  // The innermost loop: the lane dim, in vector steps and a masked remainder step. A
  // contraction not jammed along another dim (there is none, or this is the jam dim's
  // remainder: a call of one sample) jams `jam` vector steps of the lanes instead, so its
  // accumulators are `jam` independent chains rather than one.
  auto lanes = [&](bool jammed) {
    current_root_ = g.root;
    if (lane_dim < 0) {
      width_ = 1;
      lane_var_ = -1;
      compute(-1);
      current_root_ = -1;
      return;
    }
    int lv = static_cast<int>(base + lane_dim);
    auto [lo, hi] = bounds(lane_dim);
    llvm::Value* span = b_->CreateSub(hi, lo);
    llvm::Value* rem = b_->CreateSRem(span, b_->getInt64(w));
    llvm::Value* main_end = b_->CreateSub(hi, rem);
    width_ = w;
    lane_var_ = lv;
    llvm::Value* from = lo;
    if (flat_block > 1) {
      llvm::Value* block_end = b_->CreateSub(hi, b_->CreateSRem(span, b_->getInt64(flat_block * w)));
      loop_range(lo, block_end, flat_block * w, [&](llvm::Value* iv) {
        for (int64_t k = 0; k < flat_block; ++k) {
          vars_[lv].value = b_->CreateAdd(iv, b_->getInt64(k * w));
          flat_phase_ = k * w;
          compute(-1);
        }
      });
      flat_phase_ = -1;
      from = block_end;
    }
    if (contraction && !jammed && !transposed && !target_.quick && (lane_dim == batch_dim || trips[lane_dim] >= jam * w)) {
      llvm::Value* jammed_end = b_->CreateSub(hi, b_->CreateSRem(span, b_->getInt64(jam * w)));
      loop_range(lo, jammed_end, jam * w, [&](llvm::Value* iv) {
        jam_values_.clear();
        for (int64_t u = 0; u < jam; ++u) jam_values_.push_back(b_->CreateAdd(iv, b_->getInt64(u * w)));
        vars_[lv].value = iv;
        compute(lv);
      });
      from = jammed_end;
    }
    loop_range(from, main_end, w, [&](llvm::Value* iv) {
      vars_[lv].value = iv;
      compute(jammed ? static_cast<int>(base + jam_dim) : -1);
    });
    if (transposed) {
      // The remainder one output at a time, each reduced alone with the same bits: a masked
      // step would reduce a whole vector of outputs for one (a call of one sample).
      width_ = 1;
      lane_var_ = -1;
      loop_range(main_end, hi, 1, [&](llvm::Value* iv) {
        vars_[lv].value = iv;
        compute(-1);
      });
    } else {
      masked_step(rem, [&] {
        vars_[lv].value = main_end;
        compute(jammed ? static_cast<int>(base + jam_dim) : -1);
      });
    }
    width_ = 1;
    lane_var_ = -1;
    current_root_ = -1;
  };
  // Loops over every dim but the lane dim, outermost first. The jam dim goes in steps of
  // `jam`, then the elements past the last whole step (in a step of 4 where jam is 8 and 4 or
  // more are left) one at a time, not jammed (a call of one sample computes it once, not
  // `jam` times). Each element's value is the same either way: jamming shares loads, not
  // arithmetic. Where the lanes are one register (a 10-output layer), an element alone is one
  // chain of dependent multiply-adds, the FMA's latency per input: the step of 4 takes four
  // such chains at once (MLP batch 13, 1 thread: 4.07-4.10 -> 3.81 us).
  std::function<void(int, bool)> nest = [&](int d, bool jammed) {
    while (d < rank && (d == lane_dim || flat)) ++d;
    if (d == rank) {
      lanes(jammed);
      return;
    }
    auto [lo, hi] = bounds(d);
    auto one_at_a_time = [&](llvm::Value* from) {
      loop_range(from, hi, 1, [&](llvm::Value* iv) {
        vars_[base + d].value = iv;
        nest(d + 1, jammed);
      });
    };
    if (d != jam_dim) {
      one_at_a_time(lo);
      return;
    }
    auto steps = [&](llvm::Value* from, int64_t j) {
      loop_range(from, hi, j, [&](llvm::Value* iv) {
        jam_values_.clear();
        for (int64_t u = 0; u < j; ++u) jam_values_.push_back(b_->CreateAdd(iv, b_->getInt64(u)));
        vars_[base + d].value = iv;
        nest(d + 1, true);
      });
    };
    steps(lo, jam);
    if (d == batch_dim || trips[d] % jam) {
      // Where the lanes are one register (jam 8), at most one step of 4 (from hi - span % 8,
      // fewer than 8 are left), then the rest alone. Not with several registers, where an
      // element alone jams its lanes' vector steps instead; and not steps of 2 too: each
      // size's copy of the body costs the optimized compile about 10 ms (the MLP's: 50 -> 60
      // ms with steps of 4, 70 with 4 and 2).
      llvm::Value* span = b_->CreateSub(hi, lo);
      auto past = [&](int64_t j) { return b_->CreateSub(hi, b_->CreateSRem(span, b_->getInt64(j))); };
      int64_t rest = jam;
      if (jam == 8 && (d == batch_dim || trips[d] % 8 >= 4)) steps(past(8), 4), rest = 4;
      one_at_a_time(past(rest));
    }
  };
  nest(0, false);
  vars_.resize(base);
}

}  // namespace jit::cg
