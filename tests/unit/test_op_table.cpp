// tests/unit/test_op_table.cpp: the op table is complete: every op has its name, signature,
// shape rule, reference kernel and (but `constant`) batching rule; names round-trip through
// find_op; every op runs once through its shape rule and kernel here. Also the semantics of the
// primitives the public API does not expose directly (pad, scatter_add, dot_general).
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include "interp/interpreter.h"
#include "ir/ir.h"
#include "ir/op_table.h"
#include "op_test_util.h"

using namespace optest;
using jit::ir::Attrs;
using jit::ir::OpId;
using jit::ir::OpInfo;
using jit::ir::Type;

namespace {

// Runs op on concrete operands through the table: shape rule, then reference kernel.
Tensor run(OpId op, std::vector<Tensor> in, Attrs attrs) {
  std::vector<Type> types;
  for (const Tensor& t : in) types.push_back({t.dtype(), t.shape()});
  jit::ir::Node n;
  n.op = op;
  n.type = jit::ir::infer_type(op, types, attrs);
  n.attrs = std::move(attrs);
  Tensor out = jit::ir::run_kernel(n, in, n.type.shape);
  CHECK(out.dtype() == n.type.dtype);
  CHECK(out.shape() == n.type.shape);
  return out;
}

struct Example {
  std::vector<Tensor> in;
  Attrs attrs;
};

// One valid call of each op, by name. A new op needs a line here.
std::map<std::string, Example> examples() {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3}), b = b8({1, 0, 1});
  Tensor idx = i64({1, 0});
  std::map<std::string, Example> ex;
  for (const OpInfo& op : jit::ir::all_ops()) {
    if (op.cls != jit::ir::OpClass::Elementwise) continue;
    std::string name(op.name);
    if (op.arity == 1) ex[name] = {{name == "logical_not" ? b : x}, {}};
    if (op.arity == 2) ex[name] = {{name.starts_with("logical") ? b : x, name.starts_with("logical") ? b : f32({1, 2, 3})}, {}};
  }
  ex["cast"] = {{x}, {{"dtype", DType::i32}}};
  ex["gelu"] = {{x}, {{"approximate", int64_t(1)}}};
  ex["where"] = {{b, x, f32({0})}, {}};
  ex["clamp"] = {{x, f32({2}), f32({4})}, {}};
  ex["fma"] = {{x, f32({2, 3, 4}), f32({0.5})}, {}};
  ex["constant"] = {{}, {{"dtype", DType::f64}, {"value", 2.5}}};
  ex["rand"] = {{}, {{"dtype", DType::f32}, {"shape", Shape{3}}, {"stream", int64_t(0)}}};
  ex["randn"] = {{}, {{"dtype", DType::f64}, {"shape", Shape{2, 2}}, {"stream", int64_t(1)}}};
  for (const char* r : {"sum", "prod", "max", "min"}) ex[r] = {{x}, {{"dims", Shape{1}}, {"keepdim", int64_t(0)}}};
  for (const char* r : {"argmax", "argmin"}) ex[r] = {{x}, {{"dim", int64_t(0)}, {"keepdim", int64_t(1)}}};
  ex["dot_general"] = {{x, x}, {{"batch_lhs", Shape{}}, {"batch_rhs", Shape{}}, {"contract_lhs", Shape{1}}, {"contract_rhs", Shape{1}}}};
  ex["reshape"] = {{x}, {{"shape", Shape{3, 2}}}};
  ex["permute"] = {{x}, {{"perm", Shape{1, 0}}}};
  ex["expand"] = {{x}, {{"shape", Shape{4, 2, 3}}}};
  ex["slice"] = {{x}, {{"dim", int64_t(1)}, {"start", int64_t(0)}, {"stop", int64_t(3)}, {"step", int64_t(2)}}};
  ex["pad"] = {{x}, {{"dim", int64_t(1)}, {"start", int64_t(1)}, {"step", int64_t(2)}, {"size", int64_t(7)}}};
  ex["concat"] = {{x, x, x}, {{"dim", int64_t(0)}}};
  ex["index_select"] = {{x, idx}, {{"dim", int64_t(0)}}};
  ex["gather"] = {{x, i64({2, 0}, {2, 1})}, {{"dim", int64_t(1)}}};
  ex["scatter_add"] = {{x, i64({2, 0}, {2, 1}), f32({1, 1}, {2, 1})}, {{"dim", int64_t(1)}}};
  return ex;
}

}  // namespace

TEST_CASE("op table: every op has its name, signature, rules and kernel") {
  auto ops = jit::ir::all_ops();
  CHECK(ops.size() == size_t(jit::ir::kNumOps));
  std::set<std::string> names;
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpInfo& op = ops[i];
    CAPTURE(op.name);
    CHECK(static_cast<size_t>(op.id) == i);
    CHECK(&jit::ir::op_info(op.id) == &op);
    CHECK_FALSE(op.name.empty());
    CHECK(names.insert(std::string(op.name)).second);  // names are unique
    CHECK(jit::ir::find_op(op.name) == &op);
    CHECK_MESSAGE(!op.signature.empty(), "op '", op.name, "' has no signature");
    CHECK_MESSAGE(bool(op.infer), "op '", op.name, "' has no shape rule");
    CHECK_MESSAGE(bool(op.kernel), "op '", op.name, "' has no reference kernel");
    if (op.id != OpId::Constant) CHECK_MESSAGE(bool(op.batch), "op '", op.name, "' has no batching rule");
    CHECK(op.arity >= -1);
    CHECK(jit::ir::op_class_name(op.cls) != "?");
    std::set<std::string_view> attr_names;
    for (const auto& a : op.attrs) CHECK(attr_names.insert(a.name).second);
  }
  CHECK(jit::ir::find_op("no_such_op") == nullptr);
  CHECK(jit::ir::find_op("") == nullptr);
  CHECK(jit::ir::find_op("Add") == nullptr);  // names are the lower-case textual ones
}

TEST_CASE("op table: every op runs through its shape rule and reference kernel") {
  std::map<std::string, Example> ex = examples();
  for (const OpInfo& op : jit::ir::all_ops()) {
    CAPTURE(op.name);
    auto it = ex.find(std::string(op.name));
    REQUIRE_MESSAGE(it != ex.end(), "op '", op.name, "' has no example in test_op_table.cpp");
    if (op.arity >= 0) CHECK(it->second.in.size() == size_t(op.arity));
    Tensor out = run(op.id, it->second.in, it->second.attrs);
    CHECK(out.defined());
  }
  // the shape rule rejects a wrong number of operands and a missing attribute
  CHECK_THROWS_AS(jit::ir::infer_type(OpId::Add, std::vector<Type>{{DType::f32, {2}}}, {}), jit::Error);
  CHECK_THROWS_AS(jit::ir::infer_type(OpId::Cast, std::vector<Type>{{DType::f32, {2}}}, {}), jit::Error);
  CHECK_THROWS_AS(jit::ir::infer_type(OpId::Concat, std::vector<Type>{}, {{"dim", int64_t(0)}}), jit::Error);
}

TEST_CASE("op table: primitives without a public op of their own") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  // pad, the transpose of slice: element i goes to start + i * step of a zero-filled dim
  CHECK_VALUES(run(OpId::Pad, {x}, {{"dim", int64_t(1)}, {"start", int64_t(1)}, {"step", int64_t(2)}, {"size", int64_t(7)}}),
               DType::f32, {2, 7}, {0, 1, 0, 2, 0, 3, 0, 0, 4, 0, 5, 0, 6, 0});
  CHECK_VALUES(run(OpId::Pad, {x}, {{"dim", int64_t(0)}, {"start", int64_t(0)}, {"step", int64_t(1)}, {"size", int64_t(3)}}),
               DType::f32, {3, 3}, {1, 2, 3, 4, 5, 6, 0, 0, 0});
  CHECK_THROWS_AS(run(OpId::Pad, {x}, {{"dim", int64_t(1)}, {"start", int64_t(1)}, {"step", int64_t(2)}, {"size", int64_t(5)}}),
                  jit::Error);
  // scatter_add: base[i][idx[i][j]] += src[i][j] (dim 1); repeated indices accumulate
  CHECK_VALUES(run(OpId::ScatterAdd, {x, i64({2, 2, 0, 1}, {2, 2}), f32({10, 20, 30, 40}, {2, 2})}, {{"dim", int64_t(1)}}),
               DType::f32, {2, 3}, {1, 2, 33, 34, 45, 6});
  CHECK_VALUES(run(OpId::ScatterAdd, {i32({0, 0, 0}), i64({1, 1, 2}), i32({5, 6, 7})}, {{"dim", int64_t(0)}}),
               DType::i32, {3}, {0, 11, 7});
  CHECK_THROWS_AS(run(OpId::ScatterAdd, {i32({0, 0}), i64({2}), i32({1})}, {{"dim", int64_t(0)}}), jit::Error);
  // dot_general: [batch, lhs free, rhs free]; here a batched matrix-vector product
  Tensor a = f32({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}), v = f32({1, -1, 2, 0}, {2, 2});
  CHECK_VALUES(run(OpId::DotGeneral, {a, v}, {{"batch_lhs", Shape{0}}, {"batch_rhs", Shape{0}},
                                              {"contract_lhs", Shape{2}}, {"contract_rhs", Shape{1}}}),
               DType::f32, {2, 2}, {-1, -1, 10, 14});
  // contracting two dims at once, and a free dim on each side
  CHECK_VALUES(run(OpId::DotGeneral, {a, a}, {{"batch_lhs", Shape{}}, {"batch_rhs", Shape{}},
                                              {"contract_lhs", Shape{1, 2}}, {"contract_rhs", Shape{1, 2}}}),
               DType::f32, {2, 2}, {30, 70, 70, 174});
  CHECK_THROWS_AS(run(OpId::DotGeneral, {a, v}, {{"batch_lhs", Shape{0}}, {"batch_rhs", Shape{}},
                                                 {"contract_lhs", Shape{2}}, {"contract_rhs", Shape{1}}}),
                  jit::Error);
  // a constant holds a value of its dtype
  CHECK_VALUES(run(OpId::Constant, {}, {{"dtype", DType::i64}, {"value", int64_t(-4)}}), DType::i64, {}, {-4});
  CHECK_THROWS_AS(run(OpId::Constant, {}, {{"dtype", DType::i64}, {"value", 1.5}}), jit::Error);
}
