// ir/op_table.h: the single source of truth for ops. ops.def lists each op's static facts; one
// family file per op class (compiler/ops/*.cpp) fills in its rules. Passes look rules up here and
// never switch over ops.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attrs.h"
#include "ir/types.h"
#include "jit/tensor.h"

namespace llvm {
class Value;
}
namespace jit::cg {
class Emitter;
struct IndexDim;
}  // namespace jit::cg

namespace jit::ir {

enum class OpId : uint16_t {
#define JIT_OP(id, name, cls, arity) id,
#include "ir/ops.def"
#undef JIT_OP
};

inline constexpr int kNumOps = 0
#define JIT_OP(id, name, cls, arity) +1
#include "ir/ops.def"
#undef JIT_OP
    ;

enum class OpClass : uint8_t { Elementwise, Source, Random, Reduction, Contraction, Layout };
std::string_view op_class_name(OpClass c);

struct Node;
struct OpInfo;

// What a reference kernel sees: operands (concrete, contiguous), the resolved result type and
// the run's context. It fills `out`, which is allocated with the result's shape.
struct KernelCtx {
  uint64_t seed = 0;        // random ops: the generator's seed,
  uint64_t call = 0;        //   this call's number,
  int64_t batch_begin = 0;  //   and the first sample of this batch range.
};
using InferFn = Type (*)(const OpInfo& op, std::span<const Type> in, const Attrs& attrs);
using KernelFn = void (*)(const Node& n, std::span<const Tensor> in, Tensor& out,
                          const KernelCtx& ctx);

// Rules that belong to passes; declared here so every op's facts stay in one record.
struct BatchCtx;
struct BValue;
using BatchFn = BValue (*)(BatchCtx& ctx, const Node& n, std::span<const BValue> in);
// Derivatives (compiler/ops/derivatives_*.cpp), written with the public tensor ops on symbolic
// tensors, so the autodiff pass records them as it replays a function. `x` are the node's
// operands and `y` its result. VJP: from the cotangent `gy`, set gx[i] for each operand that
// gets a gradient (left undefined: zero). JVP: from the operands' tangents (undefined: zero),
// the result's tangent (undefined: zero).
using VjpFn = void (*)(const Node& n, std::span<const Tensor> x, const Tensor& y, const Tensor& gy,
                       std::span<Tensor> gx);
using JvpFn = Tensor (*)(const Node& n, std::span<const Tensor> x, const Tensor& y,
                         std::span<const Tensor> tx);

// Lowering (compiler/codegen): the node's value at an index of its result, emitted as LLVM IR.
using LowerFn = llvm::Value* (*)(cg::Emitter& e, const Node& n, const std::vector<cg::IndexDim>& at);

struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  bool required = true;
};

struct OpInfo {
  OpId id{};
  std::string_view name;
  OpClass cls{};
  int arity = 0;  // -1: variadic (at least one)
  std::vector<AttrSpec> attrs;
  std::string_view signature;  // for --list-ops: "(x) -> y", attributes, dtypes
  InferFn infer = nullptr;
  KernelFn kernel = nullptr;
  BatchFn batch = nullptr;
  bool differentiable = true;  // false: comparisons, argmax, floor, ... (zero derivative)
  VjpFn vjp = nullptr;
  JvpFn jvp = nullptr;
  LowerFn lower = nullptr;
};

const OpInfo& op_info(OpId id);
const OpInfo* find_op(std::string_view name);
std::span<const OpInfo> all_ops();

// Registration, called once per family file when the table is first built.
class OpRegistry {
 public:
  explicit OpRegistry(OpInfo* ops) : ops_(ops) {}
  OpInfo& op(OpId id) { return ops_[static_cast<size_t>(id)]; }

 private:
  OpInfo* ops_;
};
void register_elementwise_ops(OpRegistry& r);
void register_source_ops(OpRegistry& r);
void register_reduction_ops(OpRegistry& r);
void register_contraction_ops(OpRegistry& r);
void register_layout_ops(OpRegistry& r);
void register_lowering(OpRegistry& r);     // compiler/codegen
void register_derivatives(OpRegistry& r);  // compiler/ops/derivatives_*.cpp

}  // namespace jit::ir
