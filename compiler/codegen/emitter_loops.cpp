// codegen/emitter_loops.cpp: loops, accumulators and reductions (with vector lanes over the
// innermost reduced dim when that pays off).
#include <llvm/IR/Intrinsics.h>

#include <cmath>

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
  // partial_last, while iv < end). Indices are far from int64's limits: the adds do not wrap
  // (nsw), which lets LLVM rewrite the test as iv < end - step + 1 and keep one induction
  // variable. Without the flag, a loop over 128 elements kept iv + 1 and iv + 2 in two
  // registers and moved one to the other every iteration (the MLP's 10-output layer: 6
  // scalar instructions beside its 8 multiply-adds).
  llvm::Value* last = b_->CreateNSWAdd(iv, b_->getInt64(partial_last ? 1 : step));
  b_->CreateCondBr(b_->CreateICmpSLE(last, end), inner, exit);
  b_->SetInsertPoint(inner);
  body(iv);
  llvm::Value* next = b_->CreateNSWAdd(iv, b_->getInt64(step));
  iv->addIncoming(next, b_->GetInsertBlock());
  b_->CreateBr(head);
  b_->SetInsertPoint(exit);
}

void Emitter::masked_step(llvm::Value* rem, const std::function<void()>& body) {
  if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(rem); c && c->getSExtValue() <= 0) return;  // none
  auto* step = llvm::BasicBlock::Create(ctx_, "tail", fn_);
  auto* done = llvm::BasicBlock::Create(ctx_, "tail.done", fn_);
  b_->CreateCondBr(b_->CreateICmpSGT(rem, b_->getInt64(0)), step, done);
  b_->SetInsertPoint(step);
  llvm::Value* saved = mask_;
  mask_ = b_->CreateICmpSLT(lane_offsets(1), b_->CreateVectorSplat(width_, rem));
  body();
  mask_ = saved;
  b_->CreateBr(done);
  b_->SetInsertPoint(done);
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
                             const FoldFn& fold, const AccumulateFn& accumulate, bool one_chain,
                             bool tree_fold) {
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
  // The lanes an output alone takes along the innermost reduced dim, if any.
  const unsigned along = inner >= 8 ? std::min<unsigned>(vector_lanes(), static_cast<unsigned>(1) << (63 - __builtin_clzll(inner))) : 1;
  // The analysis's cost of run(vector_dim) at `width` lanes, whatever the mode.
  auto priced = [&](int vector_dim, unsigned width) {
    bool saved_mode = analyzing_;
    double saved_cost = cost_, saved_scale = cost_scale_;
    unsigned saved_width = width_;
    analyzing_ = true;
    cost_ = 0, cost_scale_ = 1, width_ = width;
    run(nullptr, vector_dim, 0, vector_dim < 0 ? 0 : inner);
    double c = cost_;
    analyzing_ = saved_mode, cost_ = saved_cost, cost_scale_ = saved_scale, width_ = saved_width;
    return c;
  };
  const double fold_cost = 2.0 * std::log2(along);  // each halving: a shuffle and a combine
  // One output's costs: with lanes along the reduced dim (without its fold), and scalar.
  auto alone = [&] { return std::pair{priced(vd, along), priced(-1, 1)}; };
  // Transposed lanes: the lanes run over kept dims (a batch of dot products, one per lane), and
  // each output alone would take lanes along the reduced dim (contiguous loads, where the
  // kept lanes read along the reduced dim with a stride: gathers). Then each output is reduced
  // alone, as it would be at width 1, and its unfolded vector kept; the group's outputs are
  // folded together by a tree that pairs vectors, each step a combine of two shuffles, and
  // leaves output u in lane u: log2(lanes) steps per vector of outputs, where folding each
  // output alone takes log2(lanes) steps per output. Each output's lanes pair as fold's
  // halving does: the bits are those of the output reduced alone.
  // The group's analysis decides (transpose_): Decide while it prices a lane dim, then Always
  // or Never for all of the group's reductions alike.
  const bool kept_lanes = width_ > 1 && !reduce_lanes_ && lane_var_ >= 0;
  if (kept_lanes && tree_fold && along > 1 && transpose_ != Transpose::Never) {
    unsigned wide = width_;
    int kept_var = lane_var_;
    double kept = priced(-1, wide);
    lane_var_ = -1;
    auto [vec, scalar] = alone();
    lane_var_ = kept_var;
    const unsigned block = std::min(wide, along);  // outputs folded by one tree
    double steps = 0;  // the tree's combines, per block
    for (unsigned n = block, s = along; s > 1; s /= 2) steps += n > 1 ? (n /= 2) : 1;
    // Priced as each output's own lanes (which the analysis prices without their fold, as
    // below), less the folds the tree saves.
    double tree = 3.0 * steps * (wide / block) + (wide / block - 1);
    double transposed = wide * vec + std::min(0.0, tree - wide * fold_cost);
    // (vec < scalar: as an output alone takes its lanes, below, so that the bits are the same.)
    // Each of a register's outputs gets its own copy of the reduction's code: only for short
    // ones without a masked remainder step (the MLP's softmax over 10 outputs, transposed, ran
    // no faster, and its compile took half as long again).
    bool small = inner % along == 0 && std::min<unsigned>(wide, vector_lanes()) * vec <= 384;
    if (small && vec < scalar && (transpose_ == Transpose::Always || transposed < kept)) {
      transposed_ = true;
      if (analyzing_) return count(transposed);
      llvm::Value* first = vars_[kept_var].value;
      llvm::Value* kept_mask = mask_;
      // The tree over `accs` (vectors of `along` lanes, one output each): pairs of vectors
      // become one holding the first halves of each output's lanes combined with the second
      // halves; a single vector left halves itself. Then one lane per output, in order.
      auto tree = [&](std::vector<llvm::Value*> v) {
        unsigned len = along;
        for (unsigned s = along; s > 1; s /= 2) {
          std::vector<llvm::Value*> next;
          auto half = [&](llvm::Value* a, llvm::Value* b, unsigned groups, unsigned offset) {
            std::vector<int> m;
            for (unsigned g = 0; g < groups; ++g)
              for (unsigned i = 0; i < s / 2; ++i) m.push_back(static_cast<int>(g * s + offset + i));
            return b_->CreateShuffleVector(a, b, m);
          };
          if (v.size() == 1) {  // [g0 lo, g0 hi, g1 lo, ...] -> lo + hi, half as long
            next.push_back(combine(half(v[0], v[0], len / s, 0), half(v[0], v[0], len / s, s / 2)));
            len /= 2;
          } else {  // lanes of b follow those of a: index len + ...
            for (size_t i = 0; i < v.size(); i += 2)
              next.push_back(combine(half(v[i], v[i + 1], 2 * len / s, 0), half(v[i], v[i + 1], 2 * len / s, s / 2)));
          }
          v = std::move(next);
        }
        return v;  // vectors of `len` lanes, one output per lane, in order
      };
      std::vector<llvm::Value*> outs, accs;
      lane_var_ = -1, mask_ = nullptr, width_ = along;
      for (unsigned u = 0; u < wide; ++u) {
        llvm::Value* j = u ? b_->CreateAdd(first, b_->getInt64(u)) : first;
        // In a masked step, an inactive lane reads lane 0's elements (in range) instead.
        if (kept_mask && u) j = b_->CreateSelect(b_->CreateExtractElement(kept_mask, u), j, first);
        vars_[kept_var].value = j;
        llvm::Value* i = init();
        llvm::Value* acc = make_acc(i->getType(), i);
        run(acc, vd, 0, inner);
        accs.push_back(load_acc(acc));
        if (accs.size() == block) {
          for (llvm::Value* o : tree(std::move(accs))) outs.push_back(o);
          accs.clear();
        }
      }
      vars_[kept_var].value = first, lane_var_ = kept_var, mask_ = kept_mask, width_ = wide;
      while (outs.size() > 1) {  // concatenated, in order
        std::vector<llvm::Value*> next;
        for (size_t i = 0; i < outs.size(); i += 2) {
          unsigned n = llvm::cast<llvm::FixedVectorType>(outs[i]->getType())->getNumElements();
          std::vector<int> m(2 * n);
          for (unsigned k = 0; k < 2 * n; ++k) m[k] = static_cast<int>(k);
          next.push_back(b_->CreateShuffleVector(outs[i], outs[i + 1], m));
        }
        outs = std::move(next);
      }
      return outs[0];
    }
  }
  kept_lanes_ |= kept_lanes;
  unsigned lanes = 1;
  if (width_ == 1 && inner >= 8) {
    lanes = along;
    // Lanes over the reduced dim pay off when the loads along it are contiguous or uniform.
    auto [vec, scalar] = alone();
    if (vec >= scalar) lanes = 1;
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
