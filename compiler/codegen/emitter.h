// codegen/emitter.h: emits a schedule's groups as LLVM IR loop nests.
//
// A group's root is computed over its index space by a loop nest whose innermost loop runs
// `width()` lanes at once (explicit vector types); a scalar loop finishes the remainder. The
// value of a node at an index is produced by the op's lowering rule from the op table, which
// asks the emitter for its operands at mapped indices: inline values recurse, stored values
// are loaded. Indices are kept affine in the loop variables where they can be, so a load knows
// when it is contiguous (one vector load), uniform (a broadcast) or neither (a gather).
//
// The same rules also run in analysis mode, which emits nothing and counts an estimated cost;
// the emitter uses it to choose which loop carries the vector lanes.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <vector>

#include "codegen/schedule.h"
#include "codegen/target.h"
#include "ir/ir.h"

namespace jit::cg {

// One dim of an index: c + sum(coef * loop var), or a dynamic per-lane value.
struct IndexDim {
  std::vector<std::pair<int, int64_t>> terms;  // (loop var, coefficient), no zero coefficients
  int64_t c = 0;
  bool dynamic = false;
  llvm::Value* dyn = nullptr;  // i64 (uniform) or <W x i64>; null in analysis mode

  static IndexDim constant(int64_t c) { return {{}, c, false, nullptr}; }
  bool operator==(const IndexDim&) const = default;
  static IndexDim var(int v, int64_t coef = 1);
  IndexDim scaled(int64_t k) const;            // affine only
  IndexDim plus(const IndexDim& o) const;      // affine only
  int64_t coef(int var) const;
};
using Index = std::vector<IndexDim>;

// How a buffer's dims are laid out in memory, in elements.
struct Stride {
  int64_t coef = 0;
  bool times_batch = false;  // multiplied by the call's batch size
  bool runtime = false;      // read from the kernel arguments
  bool known() const { return !runtime && !times_batch; }  // a constant number of elements
  bool is(int64_t c) const { return known() && coef == c; }
};

// A call whose batched outputs take at least this many bytes streams its stores of whole cache
// lines past the caches (twice the 2 MiB L2 of the machines we measure: such outputs leave it
// anyway).
constexpr int64_t kStreamBytes = int64_t(4) << 20;
constexpr unsigned kCacheLine = 64;

// The kernel's argument block (C layout; runtime/compiled_executable.cpp fills it).
struct KernelArgs {
  void* const* ptrs;      // params, then outputs
  const int64_t* strides; // per param and output, its dims' strides, concatenated
  void* hoisted;          // the prologue's stored values
  void* scratch;          // this thread's scratch (body)
  uint64_t seed;
  uint64_t call;
  int64_t batch;          // the whole batch size
  int32_t* error;         // set to 1 when an index was out of range
  void* fixed;            // the values of constant captures (Schedule::fixed), computed once
};

class Emitter {
 public:
  Emitter(const ir::Function& f, const Schedule& s, const TargetInfo& t,
          const std::vector<bool>& contiguous, llvm::Module& m);

  // Emits `void <name>_fixed(KernelArgs*)`, `void <name>_prologue(KernelArgs*)` (each when it
  // has groups) and `void <name>_body(KernelArgs*, i64, i64)`.
  void emit(const std::string& name);

  // ---- the interface lowering rules use ---------------------------------------------------------
  bool analyzing() const { return analyzing_; }
  llvm::Value* active_lanes() const { return mask_; }  // a remainder step's <W x i1>, or null
  // exp of value x at `at` for exp and sigmoid, by make(): computed once per (x, at) in a step
  // of a group of elementwise ops only, whose steps are straight-line code (branches that join
  // again), so the first value dominates every later use. The same bits as computing it again.
  llvm::Value* shared_exp(ir::ValueId x, const Index& at, const std::function<llvm::Value*()>& make);
  // When > 1, the contraction being lowered computes this many results at once, at its index
  // and at the next ones along loop var jam_var(); it returns them as a struct.
  int64_t jam() const { return jam_; }
  int jam_var() const { return jam_var_; }
  void clear_jam() { jam_ = 1, jam_var_ = -1; }
  // Evaluates fn with loop var `var` at its u-th jam value.
  llvm::Value* at_jam(int var, int64_t u, const std::function<llvm::Value*()>& fn) {
    llvm::Value* saved = vars_[var].value;
    vars_[var].value = jam_values_[u];
    llvm::Value* r = fn();
    vars_[var].value = saved;
    return r;
  }
  unsigned width() const { return width_; }
  llvm::IRBuilder<>& b() { return *b_; }
  const ir::Function& function() const { return f_; }
  const TargetInfo& target() const { return target_; }
  int vector_lanes() const { return target_.vector_bytes / 4; }

  // v's value at `at` (one index dim per dim of v), <width x T> or T. Null in analysis mode.
  llvm::Value* eval(ir::ValueId v, const Index& at);
  // Counts cost in analysis mode; returns null.
  llvm::Value* count(double cost);

  llvm::Type* scalar_type(DType t);
  llvm::Type* value_type(DType t);  // <width x T> or T (bool: i1)
  llvm::Value* splat(llvm::Value* scalar);
  llvm::Value* const_float(double v, DType t);
  llvm::Value* const_int(int64_t v, DType t);
  // The index per lane as <width x i64> (or i64 when width is 1).
  llvm::Value* index_value(const IndexDim& d);
  // A dynamic index dim from a per-lane i64 value.
  IndexDim dynamic(llvm::Value* v);
  // The kernel argument block's seed, call, and error flag.
  llvm::Value* seed();
  llvm::Value* call_number();
  void flag_error(llvm::Value* cond);  // sets the error flag where cond (i1 / <W x i1>) is true

  // A loop over [0, trip) with a fresh variable; body(var). In analysis mode the body runs once
  // and its cost is multiplied by the trip count.
  void loop(int64_t trip, const std::function<void(int var)>& body);
  // Accumulators: storage for values carried across loop iterations.
  llvm::Value* make_acc(llvm::Type* t, llvm::Value* init);
  llvm::Value* load_acc(llvm::Value* acc);
  void store_acc(llvm::Value* acc, llvm::Value* v);

  // A reduction over the index space `sizes`: combine(acc, element(vars)) from `init`. When the
  // caller computes a scalar (width 1) and the innermost reduced dim is long, it runs vector
  // lanes over that dim (the remainder in a masked step, inactive lanes reading the identity)
  // and folds them at the end with `fold`.
  using ElementFn = std::function<llvm::Value*(const std::vector<int>& vars)>;
  using CombineFn = std::function<llvm::Value*(llvm::Value* acc, llvm::Value* x)>;
  using FoldFn = std::function<llvm::Value*(llvm::Value* acc_vector)>;
  using InitFn = std::function<llvm::Value*()>;  // the identity at the current width
  // acc updated with the element at vars, in place of combine(acc, element(vars)) (a
  // contraction's multiply-add, fused); element then only prices the analysis.
  using AccumulateFn = std::function<llvm::Value*(llvm::Value* acc, const std::vector<int>& vars)>;
  // one_chain: each element accumulates in one sequential chain even where its lanes run over
  // kept dims (a contraction, register-blocked across elements instead); otherwise such a
  // reduction keeps four partial accumulators (see emitter_loops.cpp).
  // tree_fold: fold(v) is combine applied pairwise in halves (v's first half with its second,
  // and so on down to one lane: LLVM's reassociated reduction), so that where the lanes run over
  // kept dims the outputs may instead be reduced one by one with lanes along the reduced dim and
  // folded together by a tree of shuffles (see emitter_loops.cpp), with the same bits.
  llvm::Value* reduce(const std::vector<int64_t>& sizes, const InitFn& init,
                      const ElementFn& element, const CombineFn& combine, const FoldFn& fold,
                      const AccumulateFn& accumulate = {}, bool one_chain = false, bool tree_fold = false);
  // v is computed inline in the value being lowered (not stored, not a parameter).
  bool is_inline(ir::ValueId v) const { return !f_.is_param(v) && s_.buffer_of[v] < 0; }

 private:
  struct Var {
    llvm::Value* value = nullptr;  // current scalar value (i64)
    int64_t trip = 1;
  };
  struct BufferView {
    llvm::Value* base = nullptr;   // element pointer
    std::vector<Stride> strides;
    std::vector<llvm::Value*> runtime_strides;
    DType dtype;
    bool stream = false;  // a streamable output of the body: its stores stream where stream_ holds
  };

  // The address of `at` in a buffer: one pointer (the lanes are contiguous, or uniform when
  // lane_step is 0) or a vector of pointers (a gather or scatter).
  struct Address {
    llvm::Value* ptr = nullptr;
    int64_t lane_step = -1;  // elements between lanes when known; -1: use `ptrs`
    llvm::Value* ptrs = nullptr;
    double cost = 1;         // analysis: of loading it
  };

  void emit_function(const std::string& name, const std::vector<Group>& groups, bool body);
  llvm::Value* eval_node(ir::ValueId v, const Index& at);  // eval without the step bookkeeping
  void emit_group(const Group& g);
  bool emit_transpose(const Group& g);
  unsigned lane_width(const Group& g, int64_t trip) const;
  bool is_contraction(const Group& g) const;  // the group's root is a dot_general
  // What the group's root and inline nodes are (a parameter's copy: none of these).
  struct GroupOps {
    bool reduces = false;  // a reduction, contraction or scatter_add: loops inside a step
    bool other = false;    // an op neither elementwise nor operand-free (layout, ...)
    bool costly = false;   // a transcendental
  };
  GroupOps group_ops(const Group& g) const;
  // Visits the group's root and the nodes it computes inline, down to the values it loads
  // (parameters and stored values: `leaf`), each once; false as soon as visit is.
  bool walk_group(const Group& g, const std::function<bool(ir::ValueId v, bool leaf)>& visit) const;
  // When the group runs as one flat loop over its elements (see emit_group): the elements a
  // sample of its output has (inner; 0 when it does not: emit_group has returned on an empty
  // sample), and the lcm of the sizes of the unbatched rows it reads (period; 0: none).
  struct FlatLoop {
    int64_t inner = 0, period = 0;
  };
  FlatLoop flat_extent(const Group& g) const;
  // An unbatched row of n elements in a flat step: lane l holds element (f + l) mod n, f the
  // step's flat index, which is flat_phase_ mod n where that is known (>= 0).
  llvm::Value* periodic(int buffer, int64_t n);
  // Runs body once with the lanes below `rem` active (when rem > 0): a loop's remainder.
  void masked_step(llvm::Value* rem, const std::function<void()>& body);
  llvm::Value* select_lanes(llvm::Value* mask, llvm::Value* x, llvm::Value* y);
  double analyze(const Group& g, const std::vector<int64_t>& trips, int lane_dim, unsigned width = 0);
  void loop_range(llvm::Value* begin, llvm::Value* end, int64_t step,
                  const std::function<void(llvm::Value*)>& body, bool partial_last = false);
  Address address(int buffer, const Index& at);
  // The elements between consecutive lanes of `at` in a buffer (0: every lane reads the same
  // element); -1 where the lanes need a gather (a dynamic index, a stride known at run time).
  int64_t lane_step(int buffer, const Index& at) const;
  llvm::Value* load(int buffer, const Index& at);
  void store(int buffer, const Index& at, llvm::Value* v);
  // A full vector's store into an output, streamed where this call streams and the address is
  // a cache line's; false (nothing emitted) for a vector not of whole lines.
  bool store_streaming(llvm::Value* v, llvm::Value* ptr, int buffer);
  llvm::Value* stride_value(int buffer, int dim);
  void setup_buffers(bool body);
  void setup_alias_scopes();
  llvm::Value* tag(llvm::Value* access, int buffer);  // a load or store of `buffer`: its alias scope
  llvm::Value* arg_field(int i);
  llvm::Value* lane_offsets(int64_t step);  // <0, step, 2 step, ...> as <W x i64>

  const ir::Function& f_;
  const Schedule& s_;
  const TargetInfo& target_;
  std::vector<bool> contiguous_;  // per param and output
  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::IRBuilder<>> b_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* args_ = nullptr;
  llvm::Value* tile_begin_ = nullptr;  // body: the first sample of the current tile
  llvm::Value* tile_end_ = nullptr;
  // Body: whether this call writes enough output to stream it (kStreamBytes), and whether any
  // store was emitted as a streaming one (then the body ends with a store fence).
  llvm::Value* stream_ = nullptr;
  bool streamed_ = false;
  std::vector<BufferView> views_;
  std::vector<llvm::MDNode*> scope_, noalias_;  // per buffer
  std::vector<Var> vars_;
  ir::ValueId current_root_ = -1;
  int lane_var_ = -1;
  unsigned width_ = 1;
  llvm::Value* mask_ = nullptr;  // the active lanes (<W x i1>) in a remainder step, or null
  bool reduce_lanes_ = false;    // the lanes run along a reduction's reduced dim (reduce())
  // Transposed lanes (reduce()): the group's analysis decides them, for all of its reductions
  // (a group's outputs computed one by one in its tail must be so in its body too).
  enum class Transpose { Decide, Always, Never };
  Transpose transpose_ = Transpose::Never;
  bool transposed_ = false;      // a reduction took transposed lanes (set by reduce())
  bool kept_lanes_ = false;      // a reduction ran its lanes over kept dims without (likewise)
  int jam_var_ = -1;             // a contraction root computes jam_ elements along this var,
  int64_t jam_ = 1;              // at the values jam_values_ of the var
  std::vector<llvm::Value*> jam_values_;
  bool analyzing_ = false;
  bool share_exp_ = false;  // the group being emitted is elementwise ops only
  const Shape* flat_shape_ = nullptr;  // a flat group with unbatched rows: its shape
  int64_t flat_phase_ = 0;             // and its step's flat index mod the rows' sizes (-1: unknown)
  int eval_depth_ = 0;      // eval's nesting: a step's value starts at depth 0
  struct SharedExp {
    ir::ValueId x;
    Index at;
    llvm::Value* exp;
  };
  std::vector<SharedExp> exp_memo_;  // the step's exp(x)
  double cost_ = 0;
  double cost_scale_ = 1;
  llvm::StructType* args_type_ = nullptr;
};

}  // namespace jit::cg
