// tests/unit/test_verifier.cpp: the verifier catches each invariant it guards. Broken functions
// are built by hand (the builder cannot make them), one invariant broken at a time, and the
// message must name the function, the node and what is wrong.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "ir/ir.h"
#include "ir/verifier.h"

using namespace jit;
using namespace jit::ir;

namespace {

// f(%0: f32[?,3], %1: f32[3] captured) { %2 = add(%0, %1); %3 = sum(%2) {dims=[1], keepdim=0} }
Function good() {
  Builder b("g", false);
  ValueId x = b.param({DType::f32, {kDyn, 3}}), w = b.param({DType::f32, {3}}, true);
  ValueId s = b.op(OpId::Add, {x, w});
  ValueId r = b.op(OpId::Sum, {s}, {{"dims", Shape{1}}, {"keepdim", int64_t(0)}});
  return b.finish({r, s});
}

// The verifier's message for f, which must fail.
std::string failure(const Function& f) {
  try {
    verify(f);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Verify);
    return e.what();
  }
  FAIL("verify accepted a broken function");
  return "";
}

void check_fails(const Function& f, const std::string& where, const std::string& what) {
  std::string m = failure(f);
  CHECK_MESSAGE(m.starts_with("verify: function 'g': " + where + ": "), m);
  CHECK_MESSAGE(m.find(what) != std::string::npos, m);
}

}  // namespace

TEST_CASE("verifier: a well-formed function passes") {
  CHECK_NOTHROW(verify(good()));
  Builder b("empty", false);
  CHECK_NOTHROW(verify(b.finish({})));
}

TEST_CASE("verifier: operands are defined before use") {
  Function f = good();
  f.nodes[0].operands[1] = 3;  // %2 = add(%0, %3): its own successor
  check_fails(f, "%2 = add", "operand %3 is not defined before use");
  f = good();
  f.nodes[0].operands[0] = 2;  // itself
  check_fails(f, "%2 = add", "operand %2 is not defined before use");
  f = good();
  f.nodes[1].operands[0] = -1;
  check_fails(f, "%3 = sum", "operand %-1 is not defined before use");
}

TEST_CASE("verifier: arity") {
  Function f = good();
  f.nodes[0].operands.push_back(0);
  check_fails(f, "%2 = add", "op 'add' takes 2 operands, got 3");
  f = good();
  f.nodes[1].operands.clear();
  check_fails(f, "%3 = sum", "op 'sum' takes 1 operand, got 0");
}

TEST_CASE("verifier: attributes are known, present and of their kind") {
  Function f = good();
  f.nodes[1].attrs.set("bogus", int64_t(1));
  check_fails(f, "%3 = sum", "op 'sum' has no attribute 'bogus'");
  f = good();
  f.nodes[1].attrs = Attrs{{"dims", Shape{1}}};
  check_fails(f, "%3 = sum", "op 'sum' needs attribute 'keepdim' (int)");
  f = good();
  f.nodes[1].attrs.set("keepdim", 1.0);
  check_fails(f, "%3 = sum", "attribute 'keepdim' must be int");
  f = good();
  f.nodes[0].attrs.set("dtype", DType::f64);
  check_fails(f, "%2 = add", "op 'add' has no attribute 'dtype'");
}

TEST_CASE("verifier: each node's type is the one its op infers") {
  Function f = good();
  f.nodes[0].type = {DType::f64, {kDyn, 3}};
  check_fails(f, "%2 = add", "its type is f64[?,3] but the op gives f32[?,3]");
  f = good();
  f.nodes[1].type = {DType::f32, {kDyn, 1}};
  check_fails(f, "%3 = sum", "its type is f32[?,1] but the op gives f32[?]");
}

TEST_CASE("verifier: operands fit their op (the op's own shape rule)") {
  Function f = good();
  f.params[1].type = {DType::f32, {4}};  // add(f32[?,3], f32[4]) does not broadcast
  check_fails(f, "%2 = add", "do not broadcast");
  f = good();
  f.nodes[1].attrs.set("dims", Shape{5});
  check_fails(f, "%3 = sum", "out of range");
}

TEST_CASE("verifier: parameters have no negative dims but the batch dim") {
  Function f = good();
  f.params[0].type.shape = {-2, 3};
  check_fails(f, "parameter %0", "negative dim");
}

TEST_CASE("verifier: outputs are defined") {
  Function f = good();
  f.outputs.push_back(4);
  check_fails(f, "return", "%4 is not defined");
  f.outputs.back() = -1;
  check_fails(f, "return", "%-1 is not defined");
}

TEST_CASE("verifier: random streams are distinct") {
  Builder b("g", false);
  Attrs a{{"dtype", DType::f32}, {"shape", Shape{2}}, {"stream", int64_t(3)}};
  ValueId r1 = b.op(OpId::Rand, {}, a), r2 = b.op(OpId::Randn, {}, a);
  Function f = b.finish({r1, r2});
  check_fails(f, "%1 = randn", "random stream 3 is used twice");
  f.nodes[1].attrs.set("stream", int64_t(4));
  CHECK_NOTHROW(verify(f));
}

TEST_CASE("verifier: no node has a nested region yet, and ops are in the table") {
  Function f = good();
  f.nodes[0].regions.push_back(std::make_shared<const Function>(good()));
  check_fails(f, "%2 = add", "nested region");
  f = good();
  f.nodes[0].op = static_cast<OpId>(kNumOps);
  check_fails(f, "%2", "is not in the op table");
}
