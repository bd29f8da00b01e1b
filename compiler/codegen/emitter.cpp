// codegen/emitter.cpp: loop nests, addressing and the evaluation of inline values.
#include "codegen/emitter.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cassert>
#include <cmath>

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
  args_type_ = llvm::StructType::create(ctx_, {ptr, ptr, ptr, ptr, i64, i64, i64, ptr}, "KernelArgs");
}

void Emitter::emit(const std::string& name) {
  emit_function(name + "_prologue", false);
  emit_function(name + "_body", true);
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

void Emitter::emit_function(const std::string& name, bool body) {
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
  const std::vector<Group>& groups = body ? s_.body : s_.prologue;
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
  b_->CreateRetVoid();
}

void Emitter::setup_buffers(bool body) {
  views_.assign(s_.buffers.size(), {});
  int64_t stride_off = 0;
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
    } else if (buf.kind == BufKind::Hoisted) {
      v.base = b_->CreateGEP(b_->getInt8Ty(), arg_field(2), b_->getInt64(buf.offset));
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
        int64_t n = buf.type.shape[d];
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
  (void)body;
}

llvm::Value* Emitter::stride_value(int buffer, int dim) {
  const BufferView& v = views_[buffer];
  const Stride& s = v.strides[dim];
  if (s.runtime) return v.runtime_strides[dim];
  llvm::Value* c = b_->getInt64(s.coef);
  return s.times_batch ? b_->CreateMul(c, arg_field(6)) : c;
}

// ---- types and constants -------------------------------------------------------------------------

llvm::Type* Emitter::scalar_type(DType t) {
  switch (t) {
    case DType::f32: return b_->getFloatTy();
    case DType::f64: return b_->getDoubleTy();
    case DType::i32: return b_->getInt32Ty();
    case DType::i64: return b_->getInt64Ty();
    case DType::b8: return b_->getInt8Ty();
  }
  return nullptr;
}

llvm::Type* Emitter::value_type(DType t) {
  llvm::Type* s = t == DType::b8 ? b_->getInt1Ty() : scalar_type(t);
  return width_ == 1 ? s : llvm::FixedVectorType::get(s, width_);
}

llvm::Value* Emitter::splat(llvm::Value* scalar) {
  if (analyzing_ || width_ == 1 || scalar->getType()->isVectorTy()) return scalar;
  return b_->CreateVectorSplat(width_, scalar);
}

llvm::Value* Emitter::const_float(double v, DType t) {
  if (analyzing_) return nullptr;
  return splat(llvm::ConstantFP::get(t == DType::f64 ? b_->getDoubleTy() : b_->getFloatTy(), v));
}

llvm::Value* Emitter::const_int(int64_t v, DType t) {
  if (analyzing_) return nullptr;
  llvm::Type* s = t == DType::b8 ? b_->getInt1Ty() : scalar_type(t);
  return splat(llvm::ConstantInt::get(s, static_cast<uint64_t>(v), true));
}

llvm::Value* Emitter::count(double cost) {
  cost_ += cost * cost_scale_;
  return nullptr;
}

llvm::Value* Emitter::lane_offsets(int64_t step) {
  std::vector<llvm::Constant*> c;
  for (unsigned i = 0; i < width_; ++i) c.push_back(b_->getInt64(step * i));
  return llvm::ConstantVector::get(c);
}

llvm::Value* Emitter::index_value(const IndexDim& d) {
  if (analyzing_) return nullptr;
  if (d.dynamic) return d.dyn;
  llvm::Value* s = b_->getInt64(d.c);
  int64_t lane = 0;
  for (auto [v, a] : d.terms) {
    if (v == lane_var_) {
      lane = a;
      continue;
    }
    s = b_->CreateAdd(s, b_->CreateMul(vars_[v].value, b_->getInt64(a)));
  }
  if (lane_var_ >= 0) s = b_->CreateAdd(s, b_->CreateMul(vars_[lane_var_].value, b_->getInt64(lane)));
  if (width_ == 1) return s;
  return b_->CreateAdd(b_->CreateVectorSplat(width_, s), lane_offsets(lane));
}

IndexDim Emitter::dynamic(llvm::Value* v) {
  IndexDim d;
  d.dynamic = true;
  d.dyn = v;
  return d;
}

// ---- loops and accumulators ----------------------------------------------------------------------

void Emitter::loop_range(llvm::Value* begin, llvm::Value* end, int64_t step,
                         const std::function<void(llvm::Value*)>& body, bool partial_last) {
  llvm::BasicBlock* pre = b_->GetInsertBlock();
  auto* head = llvm::BasicBlock::Create(ctx_, "loop", fn_);
  auto* inner = llvm::BasicBlock::Create(ctx_, "body", fn_);
  auto* exit = llvm::BasicBlock::Create(ctx_, "exit", fn_);
  b_->CreateBr(head);
  b_->SetInsertPoint(head);
  llvm::PHINode* iv = b_->CreatePHI(b_->getInt64Ty(), 2);
  iv->addIncoming(begin, pre);
  // Runs while iv + step <= end, so a vector step never reads past the end (or, with
  // partial_last, while iv < end).
  llvm::Value* last = b_->CreateAdd(iv, b_->getInt64(partial_last ? 1 : step));
  b_->CreateCondBr(b_->CreateICmpSLE(last, end), inner, exit);
  b_->SetInsertPoint(inner);
  body(iv);
  llvm::Value* next = b_->CreateAdd(iv, b_->getInt64(step));
  iv->addIncoming(next, b_->GetInsertBlock());
  b_->CreateBr(head);
  b_->SetInsertPoint(exit);
}

void Emitter::loop(int64_t trip, const std::function<void(int)>& body) {
  int id = static_cast<int>(vars_.size());
  vars_.push_back({nullptr, trip});
  if (analyzing_) {
    double saved = cost_scale_;
    cost_scale_ *= static_cast<double>(std::max<int64_t>(trip, 0));
    body(id);
    cost_scale_ = saved;
    return;
  }
  loop_range(b_->getInt64(0), b_->getInt64(trip), 1, [&](llvm::Value* iv) {
    vars_[id].value = iv;
    body(id);
  });
}

llvm::Value* Emitter::make_acc(llvm::Type* t, llvm::Value* init) {
  if (analyzing_) return nullptr;
  llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  llvm::Value* slot = entry.CreateAlloca(t);
  b_->CreateStore(init, slot);
  return slot;
}

llvm::Value* Emitter::load_acc(llvm::Value* acc) {
  if (analyzing_) return nullptr;
  return b_->CreateLoad(llvm::cast<llvm::AllocaInst>(acc)->getAllocatedType(), acc);
}

void Emitter::store_acc(llvm::Value* acc, llvm::Value* v) {
  if (!analyzing_) b_->CreateStore(v, acc);
}

llvm::Value* Emitter::reduce(const std::vector<int64_t>& sizes, const InitFn& init,
                             const ElementFn& element, const CombineFn& combine,
                             const FoldFn& fold) {
  // Nested loops over every reduced dim but `vector_dim`, which runs [from, to) with the
  // current width's lanes (or not at all when vector_dim is -1).
  auto run = [&](llvm::Value* acc, int vector_dim, int64_t from, int64_t to) {
    std::vector<int> vars(sizes.size(), -1);
    std::function<void(size_t)> level = [&](size_t d) {
      if (d == sizes.size()) {
        llvm::Value* x = element(vars);
        if (!analyzing_) store_acc(acc, combine(load_acc(acc), x));
        else count(1);
        return;
      }
      if (static_cast<int>(d) != vector_dim) {
        loop(sizes[d], [&](int v) {
          vars[d] = v;
          level(d + 1);
        });
        return;
      }
      int id = static_cast<int>(vars_.size());
      vars_.push_back({nullptr, to - from});
      vars[d] = id;
      int saved_lane = lane_var_;
      lane_var_ = width_ > 1 ? id : -1;
      if (analyzing_) {
        double saved = cost_scale_;
        cost_scale_ *= static_cast<double>(to - from) / width_;
        level(d + 1);
        cost_scale_ = saved;
      } else {
        loop_range(b_->getInt64(from), b_->getInt64(to), width_, [&](llvm::Value* iv) {
          vars_[id].value = iv;
          level(d + 1);
        });
      }
      lane_var_ = saved_lane;
    };
    level(0);
  };
  int64_t inner = sizes.empty() ? 0 : sizes.back();
  int vd = static_cast<int>(sizes.size()) - 1;
  unsigned lanes = 1;
  if (width_ == 1 && inner >= 8) {
    lanes = std::min<unsigned>(vector_lanes(), static_cast<unsigned>(1) << (63 - __builtin_clzll(inner)));
    // Lanes over the reduced dim pay off when the loads along it are contiguous or uniform.
    bool saved_mode = analyzing_;
    double saved_cost = cost_, saved_scale = cost_scale_;
    analyzing_ = true;
    cost_ = 0, cost_scale_ = 1;
    width_ = lanes;
    run(nullptr, vd, 0, inner);
    double vec_cost = cost_;
    width_ = 1;
    cost_ = 0;
    run(nullptr, -1, 0, 0);
    double scalar_cost = cost_;
    analyzing_ = saved_mode, cost_ = saved_cost, cost_scale_ = saved_scale;
    if (vec_cost >= scalar_cost) lanes = 1;
  }
  if (lanes == 1) {
    llvm::Value* acc = nullptr;
    if (!analyzing_) {
      llvm::Value* i = init();
      acc = make_acc(i->getType(), i);
    }
    run(acc, -1, 0, 0);
    return analyzing_ ? nullptr : load_acc(acc);
  }
  int64_t main_end = inner - inner % lanes;
  width_ = lanes;
  llvm::Value* vacc = nullptr;
  if (!analyzing_) {
    llvm::Value* i = init();
    vacc = make_acc(i->getType(), i);
  }
  run(vacc, vd, 0, main_end);
  llvm::Value* folded = analyzing_ ? nullptr : fold(load_acc(vacc));
  width_ = 1;
  if (main_end == inner) return folded;
  llvm::Value* sacc = analyzing_ ? nullptr : make_acc(folded->getType(), folded);
  run(sacc, vd, main_end, inner);
  return analyzing_ ? nullptr : load_acc(sacc);
}

// ---- memory --------------------------------------------------------------------------------------

Emitter::Address Emitter::address(int buffer, const Index& at) {
  const BufferView& v = views_[buffer];
  Address a;
  bool dyn = false, runtime_lane = false;
  int64_t lane = 0;
  for (size_t d = 0; d < at.size(); ++d) {
    if (at[d].dynamic) {
      dyn = true;
      continue;
    }
    int64_t c = lane_var_ >= 0 ? at[d].coef(lane_var_) : 0;
    if (!c) continue;
    if (v.strides[d].runtime || v.strides[d].times_batch)
      runtime_lane = true;
    else
      lane += c * v.strides[d].coef;
  }
  bool vector = width_ > 1 && !dyn && !runtime_lane;
  if (analyzing_) {
    a.lane_step = vector ? lane : -1;
    a.cost = width_ == 1 ? 1 : !vector ? 2.0 + width_ : lane == 0 ? 0.5 : lane == 1 ? 1 : 1.0 + width_ / 2.0;
    return a;
  }
  llvm::Type* et = scalar_type(v.dtype);
  if (vector || width_ == 1) {
    // One scalar offset (lane 0); the lanes step by `lane` elements.
    llvm::Value* off = b_->getInt64(0);
    for (size_t d = 0; d < at.size(); ++d) {
      unsigned saved = width_;
      width_ = 1;  // the index of lane 0
      llvm::Value* i = index_value(at[d]);
      width_ = saved;
      off = b_->CreateAdd(off, b_->CreateMul(i, stride_value(buffer, d)));
    }
    a.ptr = b_->CreateGEP(et, v.base, off);
    a.lane_step = width_ == 1 ? 0 : lane;
    if (width_ == 1 || lane == 0 || lane == 1) return a;
    a.ptrs = b_->CreateGEP(et, a.ptr, lane_offsets(lane));
    a.lane_step = -1;
    return a;
  }
  llvm::Value* off = llvm::Constant::getNullValue(llvm::FixedVectorType::get(b_->getInt64Ty(), width_));
  for (size_t d = 0; d < at.size(); ++d) {
    llvm::Value* i = index_value(at[d]);
    if (!i->getType()->isVectorTy()) i = b_->CreateVectorSplat(width_, i);
    off = b_->CreateAdd(off, b_->CreateMul(i, b_->CreateVectorSplat(width_, stride_value(buffer, d))));
  }
  a.ptrs = b_->CreateGEP(et, v.base, off);
  return a;
}

llvm::Value* Emitter::load(int buffer, const Index& at) {
  Address a = address(buffer, at);
  if (analyzing_) return count(a.cost);
  DType dt = views_[buffer].dtype;
  llvm::Type* et = scalar_type(dt);
  llvm::Align align(dtype_size(dt));
  llvm::Value* v;
  if (width_ == 1) {
    v = b_->CreateLoad(et, a.ptr);
  } else if (a.lane_step == 0) {
    v = b_->CreateVectorSplat(width_, b_->CreateLoad(et, a.ptr));
  } else if (a.lane_step == 1) {
    v = b_->CreateAlignedLoad(llvm::FixedVectorType::get(et, width_), a.ptr, align);
  } else {
    v = b_->CreateMaskedGather(llvm::FixedVectorType::get(et, width_), a.ptrs, align);
  }
  if (dt == DType::b8) v = b_->CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
  return v;
}

void Emitter::store(int buffer, const Index& at, llvm::Value* v) {
  Address a = address(buffer, at);
  if (analyzing_) {
    count(a.cost);
    return;
  }
  DType dt = views_[buffer].dtype;
  if (dt == DType::b8) {
    llvm::Type* i8 = b_->getInt8Ty();
    v = b_->CreateZExt(v, width_ == 1 ? i8 : llvm::FixedVectorType::get(i8, width_));
  }
  llvm::Align align(dtype_size(dt));
  if (width_ == 1) {
    b_->CreateStore(v, a.ptr);
  } else if (a.lane_step == 1) {
    b_->CreateAlignedStore(v, a.ptr, align);
  } else if (a.lane_step == 0) {
    // Every lane names the same element: store the last lane, as a loop would leave it.
    b_->CreateStore(b_->CreateExtractElement(v, width_ - 1), a.ptr);
  } else {
    b_->CreateMaskedScatter(v, a.ptrs, align);
  }
}

// ---- values --------------------------------------------------------------------------------------

llvm::Value* Emitter::eval(ir::ValueId v, const Index& at) {
  int buf = s_.buffer_of[v];
  if (buf >= 0 && v != current_root_) return load(buf, at);
  if (f_.is_param(v)) return load(static_cast<int>(v), at);  // a parameter being copied
  ir::ValueId saved = current_root_;
  current_root_ = -1;  // below the root, stored values are loaded
  const ir::Node& n = f_.node_of(v);
  llvm::Value* r = ir::op_info(n.op).lower(*this, n, at);
  current_root_ = saved;
  return r;
}

// ---- groups --------------------------------------------------------------------------------------

double Emitter::analyze(const Group& g, const std::vector<int64_t>& trips, int lane_dim) {
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
  unsigned w = 1;
  if (lane_dim >= 0)
    w = std::min<unsigned>(vector_lanes(), static_cast<unsigned>(1) << (63 - __builtin_clzll(trips[lane_dim])));
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
  const ir::Type& t = s_.buffers[g.buffer].type;
  int64_t rank = t.rank();
  int batch_dim = -1;
  std::vector<int64_t> trips(rank);
  for (int64_t d = 0; d < rank; ++d) {
    trips[d] = t.shape[d];
    if (t.shape[d] == ir::kDyn) {
      batch_dim = static_cast<int>(d);
      trips[d] = std::min<int64_t>(s_.tile, 1024);
    }
  }
  // The lane dim: the cheapest per element among the dims (and none).
  int lane_dim = -1;
  double best = analyze(g, trips, -1);
  for (int d = 0; d < rank; ++d) {
    if (trips[d] < 4) continue;
    double c = analyze(g, trips, d);
    if (c < best * 0.95) best = c, lane_dim = d;
  }
  // Loops: every dim but the lane dim in order, then the lane dim (vector body, scalar tail).
  size_t base = vars_.size();
  vars_.resize(base + rank);
  Index at;
  for (int64_t d = 0; d < rank; ++d) at.push_back(IndexDim::var(static_cast<int>(base + d)));
  auto bounds = [&](int d) -> std::pair<llvm::Value*, llvm::Value*> {
    if (d == batch_dim) return {tile_begin_, tile_end_};
    return {b_->getInt64(0), b_->getInt64(t.shape[d])};
  };
  unsigned w = lane_dim >= 0 ? std::min<unsigned>(vector_lanes(), static_cast<unsigned>(1) << (63 - __builtin_clzll(trips[lane_dim]))) : 1;
  if (lane_dim == batch_dim && lane_dim >= 0) w = vector_lanes();
  // Emits the loops over dims [d, rank) except the lane dim, and the lane loop innermost.
  std::function<void(int)> nest = [&](int d) {
    while (d < rank && d == lane_dim) ++d;
    if (d < rank) {
      auto [lo, hi] = bounds(d);
      loop_range(lo, hi, 1, [&](llvm::Value* iv) {
        vars_[base + d].value = iv;
        nest(d + 1);
      });
      return;
    }
    current_root_ = g.root;
    if (lane_dim < 0) {
      width_ = 1;
      lane_var_ = -1;
      store(g.buffer, at, eval(g.root, at));
      current_root_ = -1;
      return;
    }
    auto [lo, hi] = bounds(lane_dim);
    // Vector loop while a whole vector fits, then the scalar remainder.
    llvm::Value* span = b_->CreateSub(hi, lo);
    llvm::Value* main_end = b_->CreateSub(hi, b_->CreateSRem(span, b_->getInt64(w)));
    width_ = w;
    lane_var_ = static_cast<int>(base + lane_dim);
    loop_range(lo, main_end, w, [&](llvm::Value* iv) {
      vars_[base + lane_dim].value = iv;
      store(g.buffer, at, eval(g.root, at));
    });
    width_ = 1;
    lane_var_ = -1;
    loop_range(main_end, hi, 1, [&](llvm::Value* iv) {
      vars_[base + lane_dim].value = iv;
      store(g.buffer, at, eval(g.root, at));
    });
    current_root_ = -1;
  };
  nest(0);
  vars_.resize(base);
}

}  // namespace jit::cg
