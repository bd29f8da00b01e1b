// tests/unit/test_op_errors.cpp: what users are told when an op is misused: the jit::Error's kind
// and a message that names the op and the shapes (eagerly, while tracing, and from the IR
// builder), for shape mismatches, bad dims, wrong dtypes, bad reshapes and contractions, reading
// a traced value, and a symbolic tensor used after its trace ended.
#include <doctest/doctest.h>

#include "ir/ir.h"
#include "op_test_util.h"

using namespace optest;
using jit::ErrorKind;

namespace {

jit::VmapOptions interp(const char* name = "f") {
  jit::VmapOptions o;
  o.backend = jit::Backend::Interpreter;
  o.name = name;
  return o;
}

// Every needle occurs in the message.
void check_names(const std::string& msg, std::initializer_list<const char*> needles) {
  CHECK_MESSAGE(!msg.empty(), "no jit::Error was thrown");
  for (const char* n : needles)
    CHECK_MESSAGE(msg.find(n) != std::string::npos, "'", std::string(n), "' not in: ", msg);
}

}  // namespace

TEST_CASE("op errors: shape mismatch in a binary op names the op and both shapes") {
  std::string m = error_of([] { jit::add(jit::zeros({3}), jit::zeros({4})); }, ErrorKind::Shape);
  check_names(m, {"op 'add'", "f32[3]", "f32[4]"});
  m = error_of([] { jit::mul(jit::zeros({2, 3}, DType::f64), jit::zeros({3, 2}, DType::f64)); }, ErrorKind::Shape);
  check_names(m, {"op 'mul'", "f64[2,3]", "f64[3,2]"});
  m = error_of([] { jit::lt(jit::zeros({2}, DType::i32), jit::zeros({5}, DType::i32)); }, ErrorKind::Shape);
  check_names(m, {"op 'lt'", "i32[2]", "i32[5]"});
  m = error_of([] { jit::where(b8({1, 0}), jit::zeros({3}), 0); }, ErrorKind::Shape);
  check_names(m, {"op 'where'", "bool[2]", "f32[3]"});
  // the same message while tracing, where the shapes are per-sample
  auto f = [](const Tensor& x) { return x + jit::zeros({4}); };
  m = error_of([&] { jit::vmap(f, 0, 0, interp())(jit::zeros({5, 3})); }, ErrorKind::Shape);
  check_names(m, {"op 'add'", "f32[3]", "f32[4]"});
}

TEST_CASE("op errors: a dim out of range names the op, the dim, the shape and its rank") {
  Tensor x = jit::zeros({2, 3});
  std::string m = error_of([&] { jit::sum(x, {2}); }, ErrorKind::InvalidArgument);
  check_names(m, {"sum", "dim 2", "f32[2,3]", "rank 2"});
  m = error_of([&] { jit::softmax(x, -3); }, ErrorKind::InvalidArgument);
  check_names(m, {"softmax", "dim -3", "f32[2,3]", "rank 2"});
  m = error_of([&] { jit::argmax(x, 5); }, ErrorKind::InvalidArgument);
  check_names(m, {"argmax", "dim 5", "rank 2"});
  m = error_of([&] { jit::transpose(x, 0, 2); }, ErrorKind::InvalidArgument);
  check_names(m, {"transpose", "dim 2", "f32[2,3]"});
  m = error_of([&] { jit::unsqueeze(x, 4); }, ErrorKind::InvalidArgument);
  check_names(m, {"unsqueeze", "dim 4", "f32[2,3]"});
  m = error_of([&] { jit::concat({x, x}, 2); }, ErrorKind::InvalidArgument);
  check_names(m, {"concat", "dim 2", "f32[2,3]"});
  m = error_of([&] { jit::select(x, 1, 3); }, ErrorKind::InvalidArgument);
  check_names(m, {"select", "index 3", "f32[2,3]"});
  m = error_of([&] { jit::index_select(x, 0, i64({0, 2})); }, ErrorKind::InvalidArgument);
  check_names(m, {"op 'index_select'", "index 2", "size 2"});
  m = error_of([&] { jit::sum(x, {1, -1}); }, ErrorKind::InvalidArgument);
  check_names(m, {"sum", "twice", "f32[2,3]"});
  m = error_of([&] { x.size(2); }, ErrorKind::InvalidArgument);
  check_names(m, {"size", "dim 2", "rank 2"});
  // in the IR, the op's attribute is named
  jit::ir::Builder b;
  jit::ir::ValueId p = b.param({DType::f32, {2, 3}});
  m = error_of([&] { b.op(jit::ir::OpId::Sum, {p}, {{"dims", Shape{2}}, {"keepdim", int64_t(0)}}); },
               ErrorKind::InvalidArgument);
  check_names(m, {"op 'sum'", "dims=2", "f32[2,3]", "rank 2"});
}

TEST_CASE("op errors: wrong dtypes") {
  std::string m = error_of([] { jit::neg(b8({1, 0})); }, ErrorKind::DType);
  check_names(m, {"op 'neg'", "bool[2]"});
  m = error_of([] { jit::sub(b8({1}), b8({0})); }, ErrorKind::DType);
  check_names(m, {"op 'sub'", "bool"});
  m = error_of([] { jit::mean(i32({1, 2})); }, ErrorKind::DType);
  check_names(m, {"mean", "i32[2]"});
  m = error_of([] { jit::var(i64({1, 2})); }, ErrorKind::DType);
  check_names(m, {"var", "i64[2]"});
  m = error_of([] { jit::index_select(jit::zeros({3}), 0, f32({0})); }, ErrorKind::DType);
  check_names(m, {"op 'index_select'", "index", "f32[1]"});
  m = error_of([] { jit::gather(jit::zeros({3}), 0, f64({0})); }, ErrorKind::DType);
  check_names(m, {"op 'gather'", "index", "f64[1]"});
  m = error_of([] { jit::dot(jit::zeros({2}), jit::zeros({2}, DType::f64)); }, ErrorKind::DType);
  check_names(m, {"dot", "f32[2]", "f64[2]"});
  m = error_of([] { jit::rand({2}, 0, DType::i32); }, ErrorKind::DType);
  check_names(m, {"op 'rand'", "i32"});
  m = error_of([] { i32({1}).data<float>(); }, ErrorKind::DType);
  check_names(m, {"f32", "i32"});
  // the IR rejects what the frontend would have converted: logical ops on floats, a float
  // condition, mixed operand dtypes, a bool contraction
  jit::ir::Builder b;
  jit::ir::ValueId f = b.param({DType::f32, {2}}), d = b.param({DType::f64, {2}}), c = b.param({DType::b8, {2}});
  m = error_of([&] { b.op(jit::ir::OpId::LogicalAnd, {f, f}); }, ErrorKind::DType);
  check_names(m, {"op 'logical_and'", "bool", "f32[2]"});
  m = error_of([&] { b.op(jit::ir::OpId::LogicalNot, {f}); }, ErrorKind::DType);
  check_names(m, {"op 'logical_not'", "f32[2]"});
  m = error_of([&] { b.op(jit::ir::OpId::Where, {f, f, f}); }, ErrorKind::DType);
  check_names(m, {"op 'where'", "condition", "f32[2]"});
  m = error_of([&] { b.op(jit::ir::OpId::Add, {f, d}); }, ErrorKind::DType);
  check_names(m, {"op 'add'", "f32[2]", "f64[2]"});
  m = error_of([&] { b.op(jit::ir::OpId::Exp, {c}); }, ErrorKind::DType);
  check_names(m, {"op 'exp'", "bool[2]"});
  m = error_of([&] { b.op(jit::ir::OpId::Sum, {c}, {{"dims", Shape{0}}, {"keepdim", int64_t(0)}}); }, ErrorKind::DType);
  check_names(m, {"op 'sum'", "bool[2]"});
}

TEST_CASE("op errors: reshape, expand, matmul and friends") {
  std::string m = error_of([] { jit::reshape(jit::zeros({2, 3}), {4}); }, ErrorKind::Shape);
  check_names(m, {"reshape", "f32[2,3]", "[4]", "6 elements"});
  m = error_of([] { jit::reshape(jit::zeros({2, 3}), {4, -1}); }, ErrorKind::Shape);
  check_names(m, {"reshape", "f32[2,3]", "[4,-1]"});
  m = error_of([] { jit::expand(jit::zeros({2}), {3}); }, ErrorKind::Shape);
  check_names(m, {"expand", "f32[2]", "[3]"});
  m = error_of([] { jit::matmul(jit::zeros({2, 3}), jit::zeros({4, 5})); }, ErrorKind::Shape);
  check_names(m, {"matmul", "f32[2,3]", "f32[4,5]"});
  m = error_of([] { jit::matmul(jit::zeros({2, 2, 3}), jit::zeros({3, 3, 4})); }, ErrorKind::Shape);
  check_names(m, {"matmul", "f32[2,2,3]", "f32[3,3,4]"});
  m = error_of([] { jit::mm(jit::zeros({2, 3}), jit::zeros({2, 3})); }, ErrorKind::Shape);
  check_names(m, {"mm", "f32[2,3]"});
  m = error_of([] { jit::mv(jit::zeros({2, 3}), jit::zeros({2})); }, ErrorKind::Shape);
  check_names(m, {"mv", "f32[2,3]", "f32[2]"});
  m = error_of([] { jit::dot(jit::zeros({3}), jit::zeros({4})); }, ErrorKind::Shape);
  check_names(m, {"dot", "f32[3]", "f32[4]"});
  m = error_of([] { jit::concat({jit::zeros({2, 3}), jit::zeros({2, 4})}); }, ErrorKind::Shape);
  check_names(m, {"op 'concat'", "f32[2,3]", "f32[2,4]"});
  m = error_of([] { jit::stack({jit::zeros({3}), jit::zeros({4})}); }, ErrorKind::Shape);
  check_names(m, {"stack", "f32[3]", "f32[4]"});
  m = error_of([] { jit::layer_norm(jit::zeros({2, 3}), {2}); }, ErrorKind::Shape);
  check_names(m, {"layer_norm", "[2]", "f32[2,3]"});
  m = error_of([] { jit::max(jit::zeros({0, 2}), {0}); }, ErrorKind::Shape);
  check_names(m, {"op 'max'", "f32[0,2]", "size 0"});
  m = error_of([] { jit::tensor({{1, 2}, {3}}); }, ErrorKind::Shape);
  check_names(m, {"rows"});
  m = error_of([] { jit::slice(jit::zeros({3}), 0, 0, 3, 0); }, ErrorKind::InvalidArgument);
  check_names(m, {"slice", "step"});
  m = error_of([] { jit::narrow(jit::zeros({3}), 0, 2, 2); }, ErrorKind::InvalidArgument);
  check_names(m, {"narrow", "f32[3]", "size 3"});
  m = error_of([] { f32({1, 2}).item(); }, ErrorKind::InvalidArgument);
  check_names(m, {"item()", "f32[2]"});
  m = error_of([] { jit::add(Tensor(), jit::zeros({2})); }, ErrorKind::InvalidArgument);
  check_names(m, {"undefined"});
  m = error_of([] { jit::exp(Tensor()); }, ErrorKind::InvalidArgument);
  check_names(m, {"undefined"});
}

TEST_CASE("op errors: reading a traced value is data-dependent control flow") {
  auto read_item = [](const Tensor& x) { return x * x.sum().item(); };
  std::string m = error_of([&] { jit::vmap(read_item, 0, 0, interp("read_item"))(jit::ones({4, 3})); },
                           ErrorKind::DataDependent);
  check_names(m, {"item()", "f32[]", "read_item", "jit::where"});
  auto branch = [](const Tensor& x) { return (x.sum() > 0) ? x : -x; };
  m = error_of([&] { jit::vmap(branch, 0, 0, interp("branch"))(jit::ones({4, 3})); }, ErrorKind::DataDependent);
  check_names(m, {"bool", "bool[]", "branch"});
  auto read_at = [](const Tensor& x) { return x * x.at({0}); };
  m = error_of([&] { jit::vmap(read_at, 0, 0, interp("read_at"))(jit::ones({4, 3})); }, ErrorKind::DataDependent);
  check_names(m, {"at()", "f32[3]", "read_at"});
  auto read_data = [](const Tensor& x) { return x * double(x.data<float>()[0]); };
  m = error_of([&] { jit::vmap(read_data, 0, 0, interp("read_data"))(jit::ones({4, 3})); }, ErrorKind::DataDependent);
  check_names(m, {"f32[3]", "read_data"});
  // the failed trace leaves the function usable: a good call afterwards works
  auto ok = jit::vmap([](const Tensor& x) { return x * 2; }, 0, 0, interp());
  CHECK_VALUES(ok(jit::ones({2, 2})), DType::f32, {2, 2}, {2, 2, 2, 2});
}

TEST_CASE("op errors: a symbolic tensor used after its trace ended") {
  Tensor escaped;
  auto leak = [&](const Tensor& x) {
    escaped = x * 2;
    return x;
  };
  jit::vmap(leak, 0, 0, interp("leak"))(jit::ones({2, 3}));
  REQUIRE(escaped.is_symbolic());
  std::string m = error_of([&] { jit::exp(escaped); }, ErrorKind::InvalidArgument);
  check_names(m, {"op 'exp'", "leak", "trace ended"});
  m = error_of([&] { escaped + jit::ones({3}); }, ErrorKind::InvalidArgument);
  check_names(m, {"op 'add'", "leak", "trace ended"});
  m = error_of([&] { escaped.item(); }, ErrorKind::InvalidArgument);
  check_names(m, {"item()", "f32[3]", "leak", "trace ended"});
  m = error_of([&] { escaped.to_vector(); }, ErrorKind::InvalidArgument);
  check_names(m, {"f32[3]", "leak", "trace ended"});
  // inside another trace it is not silently captured
  auto use = [&](const Tensor& x) { return x + escaped; };
  m = error_of([&] { jit::vmap(use, 0, 0, interp("use"))(jit::ones({2, 3})); }, ErrorKind::InvalidArgument);
  check_names(m, {"f32[3]", "leak", "trace ended"});
  CHECK(escaped.to_string().find("leak") != std::string::npos);  // printing still works
}
