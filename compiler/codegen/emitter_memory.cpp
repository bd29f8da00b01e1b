// codegen/emitter_memory.cpp: types, constants, index values and the addressing of buffers:
// contiguous vector loads and stores, broadcasts, gathers and scatters.
#include <llvm/IR/Intrinsics.h>

#include <llvm/IR/MDBuilder.h>

#include "codegen/emitter.h"

namespace jit::cg {

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

// ---- memory --------------------------------------------------------------------------------------

int64_t Emitter::lane_step(int buffer, const Index& at) const {
  const BufferView& v = views_[buffer];
  int64_t lane = 0;
  for (size_t d = 0; d < at.size(); ++d) {
    if (at[d].dynamic) return -1;
    int64_t c = lane_var_ >= 0 ? at[d].coef(lane_var_) : 0;
    if (!c) continue;
    if (v.strides[d].runtime || v.strides[d].times_batch) return -1;
    lane += c * v.strides[d].coef;
  }
  return lane;
}

Emitter::Address Emitter::address(int buffer, const Index& at) {
  const BufferView& v = views_[buffer];
  Address a;
  int64_t step = lane_step(buffer, at);
  bool vector = width_ > 1 && step >= 0;
  int64_t lane = std::max<int64_t>(step, 0);
  if (analyzing_) {
    a.lane_step = vector ? lane : -1;
    // A gather: about half a load per lane where the hardware gathers, a load and an insert
    // per lane where LLVM scalarizes it.
    double gather = target_.fast_gather ? 1.0 + width_ / 2.0 : 2.0 + 1.5 * width_;
    a.cost = width_ == 1 ? 1 : !vector ? 1.0 + gather : lane == 0 ? 0.5 : lane == 1 ? 1 : gather;
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
  llvm::Type* vt = llvm::FixedVectorType::get(et, width_);
  if (width_ == 1) {
    v = tag(b_->CreateLoad(et, a.ptr), buffer);
  } else if (a.lane_step == 0) {  // lane 0 is active even in a remainder step
    v = b_->CreateVectorSplat(width_, tag(b_->CreateLoad(et, a.ptr), buffer));
  } else if (a.lane_step == 1) {
    if (mask_)
      v = tag(b_->CreateMaskedLoad(vt, a.ptr, align, mask_, llvm::Constant::getNullValue(vt)), buffer);
    else
      v = tag(b_->CreateAlignedLoad(vt, a.ptr, align), buffer);
  } else {
    if (mask_ && !target_.fast_gather) {
      // Scalarized, a masked gather branches per lane: read lane 0's element (always active)
      // on the inactive lanes instead, unmasked, and zero them after.
      llvm::Value* lane0 = b_->CreateVectorSplat(width_, b_->CreateExtractElement(a.ptrs, uint64_t(0)));
      v = tag(b_->CreateMaskedGather(vt, b_->CreateSelect(mask_, a.ptrs, lane0), align), buffer);
      v = b_->CreateSelect(mask_, v, llvm::Constant::getNullValue(vt));
    } else {
      v = tag(b_->CreateMaskedGather(vt, a.ptrs, align, mask_, mask_ ? llvm::Constant::getNullValue(vt) : nullptr), buffer);
    }
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
    tag(b_->CreateStore(v, a.ptr), buffer);
  } else if (a.lane_step == 1) {
    if (mask_)
      tag(b_->CreateMaskedStore(v, a.ptr, align, mask_), buffer);
    else if (!views_[buffer].stream || !store_streaming(v, a.ptr, buffer))
      tag(b_->CreateAlignedStore(v, a.ptr, align), buffer);
  } else if (a.lane_step == 0) {
    // Every lane names the same element, with the same value: store lane 0 (always active).
    tag(b_->CreateStore(b_->CreateExtractElement(v, uint64_t(0)), a.ptr), buffer);
  } else {
    tag(b_->CreateMaskedScatter(v, a.ptrs, align, mask_), buffer);
  }
}

// Streaming where stream_ holds and the address is a cache line's (MOVNT needs its operand's
// alignment; a vector of 64 bytes or more is whole lines), else cached. Narrower vectors are
// not streamed: a line streamed in pieces that do not meet in the write-combining buffer is
// written to memory in parts. The branch goes the same way for a whole call but where a row's
// alignment alternates.
bool Emitter::store_streaming(llvm::Value* v, llvm::Value* ptr, int buffer) {
  uint64_t bytes = v->getType()->getPrimitiveSizeInBits().getFixedValue() / 8;
  if (bytes % kCacheLine) return false;
  streamed_ = true;
  llvm::Value* misaligned = b_->CreateAnd(b_->CreatePtrToInt(ptr, b_->getInt64Ty()), b_->getInt64(kCacheLine - 1));
  llvm::Value* go = b_->CreateAnd(stream_, b_->CreateICmpEQ(misaligned, b_->getInt64(0)));
  auto* nt = llvm::BasicBlock::Create(ctx_, "store.stream", fn_);
  auto* cached = llvm::BasicBlock::Create(ctx_, "store.cached", fn_);
  auto* join = llvm::BasicBlock::Create(ctx_, "store.done", fn_);
  b_->CreateCondBr(go, nt, cached);
  b_->SetInsertPoint(nt);
  auto* st = llvm::cast<llvm::StoreInst>(tag(b_->CreateAlignedStore(v, ptr, llvm::Align(kCacheLine)), buffer));
  st->setMetadata(llvm::LLVMContext::MD_nontemporal,
                  llvm::MDNode::get(ctx_, {llvm::ConstantAsMetadata::get(b_->getInt32(1))}));
  b_->CreateBr(join);
  b_->SetInsertPoint(cached);
  tag(b_->CreateAlignedStore(v, ptr, llvm::Align(dtype_size(views_[buffer].dtype))), buffer);
  b_->CreateBr(join);
  b_->SetInsertPoint(join);
  return true;
}

// Each buffer is its own alias scope, disjoint from every other buffer's: outputs overlap no
// argument, captured tensor or other output (the runtime refuses such buffers), hoisted and
// scratch values are private, and arguments are only read (two arguments may share memory;
// being never written, they need not be told apart). So a store into one buffer does not make
// LLVM reload a loop-invariant value of another.
void Emitter::setup_alias_scopes() {
  llvm::MDBuilder mdb(ctx_);
  llvm::MDNode* domain = mdb.createAnonymousAliasScopeDomain("vmapjit buffers");
  std::vector<llvm::Metadata*> scopes;
  for (size_t i = 0; i < s_.buffers.size(); ++i) scopes.push_back(mdb.createAnonymousAliasScope(domain));
  scope_.clear();
  noalias_.clear();
  for (size_t i = 0; i < scopes.size(); ++i) {
    scope_.push_back(llvm::MDNode::get(ctx_, {scopes[i]}));
    std::vector<llvm::Metadata*> others;
    for (size_t j = 0; j < scopes.size(); ++j)
      if (j != i) others.push_back(scopes[j]);
    noalias_.push_back(llvm::MDNode::get(ctx_, others));
  }
}

llvm::Value* Emitter::tag(llvm::Value* access, int buffer) {
  auto* inst = llvm::cast<llvm::Instruction>(access);
  inst->setMetadata(llvm::LLVMContext::MD_alias_scope, scope_[buffer]);
  inst->setMetadata(llvm::LLVMContext::MD_noalias, noalias_[buffer]);
  return access;
}

}  // namespace jit::cg
