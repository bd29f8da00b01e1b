// codegen/emitter_loops.cpp: loops, accumulators and reductions (with vector lanes over the
// innermost reduced dim when that pays off).
#include <llvm/IR/Intrinsics.h>

#include "codegen/emitter.h"

namespace jit::cg {

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
                             const FoldFn& fold, const AccumulateFn& accumulate, bool one_chain) {
  // Nested loops over every reduced dim but `vector_dim`, which runs [from, to) with the
  // current width's lanes (or not at all when vector_dim is -1).
  bool own_mask = false;  // in this reduction's own remainder step
  auto run = [&](llvm::Value* acc0, int vector_dim, int64_t from, int64_t to) {
    std::vector<int> vars(sizes.size(), -1);
    llvm::Value* acc = acc0;  // the accumulator the innermost level updates
    std::function<void(size_t)> level;
    // Reduced loop var `id` of dim d at iv + k spacing for each of `parts` partial accumulators
    // (the first is the current one), iv over [from, to) in steps of `step`; the partials then
    // merge into the first in order.
    auto in_parts = [&](size_t d, int id, int64_t parts, int64_t from, int64_t to, int64_t step, int64_t spacing) {
      llvm::Value* first = acc;
      llvm::Type* at = llvm::cast<llvm::AllocaInst>(first)->getAllocatedType();
      std::vector<llvm::Value*> accs{first};
      for (int64_t k = 1; k < parts; ++k) accs.push_back(make_acc(at, init()));
      loop_range(b_->getInt64(from), b_->getInt64(to), step, [&](llvm::Value* iv) {
        for (int64_t k = 0; k < parts; ++k) {
          vars_[id].value = b_->CreateAdd(iv, b_->getInt64(k * spacing));
          acc = accs[k];
          level(d + 1);
        }
      });
      acc = first;
      for (int64_t k = 1; k < parts; ++k) store_acc(first, combine(load_acc(first), load_acc(accs[k])));
    };
    level = [&](size_t d) {
      if (d == sizes.size()) {
        if (analyzing_) {
          element(vars);
          count(1);
          return;
        }
        llvm::Value* old = load_acc(acc);
        llvm::Value* now = accumulate ? accumulate(old, vars) : combine(old, element(vars));
        if (own_mask)  // inactive lanes keep their accumulator
          now = now->getType()->isStructTy() ? select_lanes(mask_, now, old) : b_->CreateSelect(mask_, now, old);
        store_acc(acc, now);
        return;
      }
      if (static_cast<int>(d) != vector_dim) {
        // The innermost reduced loop of a reduction whose lanes run elsewhere (over kept dims):
        // four partial accumulators over consecutive quarters of the run, merged in order at
        // the end, so four adds are in flight instead of one chain. Every element is reduced in
        // the same order whatever the batch or lane, and in both tiers. (Contractions keep one
        // chain per element: they are register-blocked across elements instead.)
        const int64_t parts = 4;
        bool split = !analyzing_ && !one_chain && d + 1 == sizes.size() && sizes[d] >= 2 * parts &&
                     sizes[d] % parts == 0 && !own_mask && !llvm::cast<llvm::AllocaInst>(acc0)->getAllocatedType()->isStructTy();
        if (!split) {
          loop(sizes[d], [&](int v) {
            vars[d] = v;
            level(d + 1);
          });
          return;
        }
        int id = static_cast<int>(vars_.size());
        vars_.push_back({nullptr, sizes[d]});
        vars[d] = id;
        int64_t quarter = sizes[d] / parts;
        in_parts(d, id, parts, 0, quarter, 1, quarter);
        return;
      }
      int id = static_cast<int>(vars_.size());
      vars_.push_back({nullptr, to - from});
      vars[d] = id;
      int saved_lane = lane_var_;
      bool saved_reduce_lanes = reduce_lanes_;
      lane_var_ = width_ > 1 ? id : -1;
      reduce_lanes_ = width_ > 1;
      if (analyzing_) {
        double saved = cost_scale_;
        cost_scale_ *= static_cast<double>(to - from) / width_;
        level(d + 1);
        cost_scale_ = saved;
      } else {
        // Long runs keep four partial accumulators, so consecutive adds do not wait on each
        // other; they merge at the end (argmax, whose ties need order, keeps one).
        const int64_t unroll = 4;
        int64_t step = width_ * unroll, main_end = to - (to - from) % width_;
        int64_t unrolled_end = from + (to - from) / step * step;
        llvm::Type* at = llvm::cast<llvm::AllocaInst>(acc0)->getAllocatedType();
        if (unrolled_end > from && (to - from) >= 2 * step && !at->isStructTy()) {
          in_parts(d, id, unroll, from, unrolled_end, step, width_);
          from = unrolled_end;
        }
        loop_range(b_->getInt64(from), b_->getInt64(main_end), width_, [&](llvm::Value* iv) {
          vars_[id].value = iv;
          level(d + 1);
        });
        if (main_end < to) {
          own_mask = true;
          masked_step(b_->getInt64(to - main_end), [&] {
            vars_[id].value = b_->getInt64(main_end);
            level(d + 1);
          });
          own_mask = false;
        }
      }
      lane_var_ = saved_lane;
      reduce_lanes_ = saved_reduce_lanes;
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
  width_ = lanes;
  llvm::Value* vacc = nullptr;
  if (!analyzing_) {
    llvm::Value* i = init();
    vacc = make_acc(i->getType(), i);
  }
  run(vacc, vd, 0, inner);
  llvm::Value* folded = analyzing_ ? nullptr : fold(load_acc(vacc));
  width_ = 1;
  return folded;
}

// select(mask, x, y) on each member of a struct of lane vectors (argmax's value and index).
llvm::Value* Emitter::select_lanes(llvm::Value* mask, llvm::Value* x, llvm::Value* y) {
  llvm::Value* r = x;
  unsigned n = llvm::cast<llvm::StructType>(x->getType())->getNumElements();
  for (unsigned i = 0; i < n; ++i)
    r = b_->CreateInsertValue(r, b_->CreateSelect(mask, b_->CreateExtractValue(x, i), b_->CreateExtractValue(y, i)), i);
  return r;
}

}  // namespace jit::cg
