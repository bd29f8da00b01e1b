// tests/unit/test_ir_text.cpp: the textual IR. Every op of the op table goes through print ->
// parse -> print and compares equal; printing is deterministic; each kind of malformed input
// gives a jit::Error(Parse) whose message and line:col are checked; mutated text never crashes.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "ir/ir.h"
#include "ir/text.h"
#include "ir/verifier.h"

using namespace jit;
using namespace jit::ir;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

Type T(DType d, Shape s) { return {d, std::move(s)}; }

// One function per op, each using the op once with attributes of every kind it takes and,
// where the op allows, a dynamic batch dim. A new op needs a line here (the test fails without).
std::map<std::string, Function> one_per_op() {
  std::map<std::string, Function> fs;
  auto unary = [&](OpId op, DType d, Attrs a = {}) {
    Builder b(std::string(op_info(op).name), false);
    ValueId x = b.param(T(d, {kDyn, 3}));
    fs[std::string(op_info(op).name)] = b.finish({b.op(op, {x}, std::move(a))});
  };
  auto binary = [&](OpId op, DType d) {
    Builder b(std::string(op_info(op).name), false);
    ValueId x = b.param(T(d, {kDyn, 3})), y = b.param(T(d, {3}), /*captured=*/true);
    fs[std::string(op_info(op).name)] = b.finish({b.op(op, {x, y})});
  };
  for (const OpInfo& op : all_ops()) {
    if (op.cls != OpClass::Elementwise || !op.attrs.empty()) continue;
    bool logical = op.name.starts_with("logical");
    if (op.arity == 1) unary(op.id, logical ? DType::b8 : DType::f32);
    if (op.arity == 2) binary(op.id, logical ? DType::b8 : op.id == OpId::Pow ? DType::f64 : DType::f32);
  }
  unary(OpId::Cast, DType::f32, {{"dtype", DType::i64}});
  unary(OpId::Gelu, DType::f64, {{"approximate", int64_t(1)}});
  {
    Builder b("where", false);
    ValueId c = b.param(T(DType::b8, {3})), x = b.param(T(DType::f32, {kDyn, 3})), y = b.param(T(DType::f32, {1}));
    fs["where"] = b.finish({b.op(OpId::Where, {c, x, y})});
    Builder k("clamp", false);
    ValueId v = k.param(T(DType::i32, {2, kDyn})), lo = k.param(T(DType::i32, {})), hi = k.param(T(DType::i32, {1}));
    fs["clamp"] = k.finish({k.op(OpId::Clamp, {v, lo, hi})});
    Builder m("fma", false);
    ValueId a = m.param(T(DType::f64, {kDyn, 3})), s = m.param(T(DType::f64, {})), z = m.param(T(DType::f64, {3}));
    fs["fma"] = m.finish({m.op(OpId::Fma, {a, s, z})});
  }
  {  // constants: floats that print tricky, integers at the ends of int64, every dtype
    Builder b("constant", false);
    std::vector<ValueId> out;
    double nan_payload;
    uint64_t bits = 0x7ff4000000000123ull;
    std::memcpy(&nan_payload, &bits, sizeof bits);
    for (double v : {1.5, -0.0, 0.0, 1e-30, 5e-324, 1.7976931348623157e308, 0.1, 1e21, 123456789.0, kInf,
                     -kInf, kNan, -kNan, nan_payload})
      out.push_back(b.op(OpId::Constant, {}, {{"dtype", DType::f64}, {"value", v}}));
    for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t(-1), int64_t(0)})
      out.push_back(b.op(OpId::Constant, {}, {{"dtype", DType::i64}, {"value", v}}));
    out.push_back(b.op(OpId::Constant, {}, {{"dtype", DType::f32}, {"value", 3.0}}));
    out.push_back(b.op(OpId::Constant, {}, {{"dtype", DType::i32}, {"value", int64_t(-7)}}));
    out.push_back(b.op(OpId::Constant, {}, {{"dtype", DType::b8}, {"value", int64_t(1)}}));
    fs["constant"] = b.finish(out);
  }
  for (OpId op : {OpId::Rand, OpId::Randn}) {
    Builder b(std::string(op_info(op).name), false);
    ValueId r = b.op(op, {}, {{"dtype", DType::f64}, {"shape", Shape{2, 3}}, {"stream", int64_t(7)}});
    fs[std::string(op_info(op).name)] = b.finish({r});
  }
  for (OpId op : {OpId::Sum, OpId::Prod, OpId::Max, OpId::Min}) {
    Builder b(std::string(op_info(op).name), false);
    ValueId x = b.param(T(DType::f32, {kDyn, 3, 4}));
    fs[std::string(op_info(op).name)] = b.finish({b.op(op, {x}, {{"dims", Shape{1, 2}}, {"keepdim", int64_t(1)}})});
  }
  for (OpId op : {OpId::Argmax, OpId::Argmin}) {
    Builder b(std::string(op_info(op).name), false);
    ValueId x = b.param(T(DType::i32, {kDyn, 3}));
    fs[std::string(op_info(op).name)] = b.finish({b.op(op, {x}, {{"dim", int64_t(1)}, {"keepdim", int64_t(0)}})});
  }
  {  // a matrix-vector product of a batch against an unmapped weight
    Builder b("dot_general", false);
    ValueId w = b.param(T(DType::f32, {4, 3}), true), x = b.param(T(DType::f32, {kDyn, 3}));
    fs["dot_general"] = b.finish({b.op(OpId::DotGeneral, {x, w}, {{"batch_lhs", Shape{}}, {"batch_rhs", Shape{}},
                                                                {"contract_lhs", Shape{1}}, {"contract_rhs", Shape{1}}})});
  }
  auto layout = [&](OpId op, std::vector<Type> in, Attrs a) {
    Builder b(std::string(op_info(op).name), false);
    std::vector<ValueId> ps;
    for (const Type& t : in) ps.push_back(b.param(t));
    fs[std::string(op_info(op).name)] = b.finish({b.op(op, ps, std::move(a))});
  };
  Type x = T(DType::f32, {kDyn, 2, 3});
  layout(OpId::Reshape, {x}, {{"shape", Shape{kDyn, 6}}});
  layout(OpId::Permute, {x}, {{"perm", Shape{2, 0, 1}}});
  layout(OpId::Expand, {T(DType::f32, {kDyn, 1, 3})}, {{"shape", Shape{kDyn, 5, 3}}});
  layout(OpId::Slice, {x}, {{"dim", int64_t(2)}, {"start", int64_t(0)}, {"stop", int64_t(3)}, {"step", int64_t(2)}});
  layout(OpId::Pad, {x}, {{"dim", int64_t(2)}, {"start", int64_t(1)}, {"step", int64_t(2)}, {"size", int64_t(7)}});
  layout(OpId::Concat, {x, x, x}, {{"dim", int64_t(1)}});
  layout(OpId::IndexSelect, {x, T(DType::i64, {4})}, {{"dim", int64_t(1)}});
  layout(OpId::Gather, {x, T(DType::i64, {kDyn, 2, 1})}, {{"dim", int64_t(2)}});
  layout(OpId::ScatterAdd, {x, T(DType::i32, {kDyn, 2, 1}), T(DType::f32, {kDyn, 2, 1})}, {{"dim", int64_t(2)}});
  return fs;
}

// parse(print(f)) == f and printing the parsed function gives the same text.
void round_trip(const Function& f) {
  std::string text = print(f);
  Function g = parse_function(text, "rt.jir");
  CHECK_MESSAGE(g == f, text);
  CHECK(print(g) == text);
}

// The error `text` gives: its message without the "file:line:col: error: " prefix, and where.
struct ParseError {
  std::string where, message;
};
ParseError parse_error(std::string_view text) {
  try {
    parse(text, "in.jir");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Parse);
    std::string m = e.what();
    REQUIRE(m.starts_with("in.jir:"));
    size_t at = m.find(": error: ");
    REQUIRE(at != std::string::npos);
    return {m.substr(7, at - 7), m.substr(at + 9)};
  }
  FAIL("no error for: " << text);
  return {};
}

void check_error(std::string_view text, const std::string& where, const std::string& message) {
  ParseError e = parse_error(text);
  CHECK_MESSAGE(e.where == where, e.message);
  CHECK_MESSAGE(e.message.find(message) != std::string::npos, e.message);
}

const char* kModel = R"(// the seed's model, with a captured weight
func @model(%x: f32[?,5], %w: f32[5] captured) -> (f32[?]) {
  %d = dot_general(%x, %w) {batch_lhs=[], batch_rhs=[], contract_lhs=[1], contract_rhs=[0]} : f32[?]
  %r = relu(%d) : f32[?]   // trailing comment
  return %r
}
)";

}  // namespace

TEST_CASE("text: every op of the op table round-trips") {
  std::map<std::string, Function> fs = one_per_op();
  std::set<std::string> missing;
  for (const OpInfo& op : all_ops())
    if (!fs.count(std::string(op.name))) missing.insert(std::string(op.name));
  CHECK_MESSAGE(missing.empty(), "ops without a round-trip example: " << fmt::format("{}", fmt::join(missing, ", ")));
  for (const auto& [name, f] : fs) {
    CAPTURE(name);
    verify(f);
    round_trip(f);
  }
}

TEST_CASE("text: all ops in one function, several functions in one text") {
  std::string all;
  std::vector<Function> want;
  for (auto& [name, f] : one_per_op()) {
    all += print(f) + "\n";
    want.push_back(f);
  }
  std::vector<Function> got = parse(all);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == want[i]);
  CHECK(parse("").empty());
  CHECK(parse("  // only a comment\n\n").empty());
}

TEST_CASE("text: floats and integers print exactly") {
  CHECK(print_attr_value(1.5) == "1.5");
  CHECK(print_attr_value(-0.0) == "-0.0");
  CHECK(print_attr_value(2.0) == "2.0");
  CHECK(print_attr_value(1e-30) == "1e-30");
  CHECK(print_attr_value(kInf) == "inf");
  CHECK(print_attr_value(-kInf) == "-inf");
  CHECK(print_attr_value(kNan) == "nan");
  CHECK(print_attr_value(-kNan) == "-nan");
  double payload;
  uint64_t bits = 0x7ff0000000000001ull;  // a signalling NaN keeps its bits
  std::memcpy(&payload, &bits, sizeof bits);
  CHECK(print_attr_value(payload) == "nan(0x7ff0000000000001)");
  CHECK(print_attr_value(std::numeric_limits<int64_t>::min()) == "-9223372036854775808");
  CHECK(print_attr_value(Shape{1, -1, 3}) == "[1,-1,3]");
  CHECK(print_attr_value(DType::b8) == "bool");
  // -0.0 stays negative, nan keeps its sign
  Function f = parse_function(
      "func @c() -> (f64[], f64[], f64[]) {\n  %a = constant() {dtype=f64, value=-0.0} : f64[]\n"
      "  %b = constant() {dtype=f64, value=-nan} : f64[]\n"
      "  %c = constant() {dtype=f64, value=nan(0x7ff0000000000001)} : f64[]\n  return %a, %b, %c\n}\n");
  CHECK(std::signbit(f.nodes[0].attrs.get_float("value")));
  CHECK(std::isnan(f.nodes[1].attrs.get_float("value")));
  CHECK(std::signbit(f.nodes[1].attrs.get_float("value")));
  CHECK(f.nodes[2].attrs == Attrs{{"dtype", DType::f64}, {"value", payload}});
}

TEST_CASE("text: names are any %name and renumber densely; comments; odd function names") {
  Function f = parse_function(kModel);
  CHECK(f.name == "model");
  CHECK(f.params.size() == 2);
  CHECK(f.params[1].captured);
  CHECK(print(f) ==
        "func @model(%0: f32[?,5], %1: f32[5] captured) -> (f32[?]) {\n"
        "  %2 = dot_general(%0, %1) {batch_lhs=[], batch_rhs=[], contract_lhs=[1], contract_rhs=[0]} : f32[?]\n"
        "  %3 = relu(%2) : f32[?]\n"
        "  return %3\n"
        "}\n");
  for (std::string name : {"vmap(model)", "", "a b\"c\\d", "\n\x01\xff", "ok_name.v2-x$"}) {
    Builder b(name, false);
    Function g = b.finish({b.param(T(DType::f32, {}))});
    CAPTURE(name);
    round_trip(g);
  }
  CHECK(print_function_name("vmap(f)") == "@\"vmap(f)\"");
  CHECK(print_function_name("model") == "@model");
  // no outputs, no params
  Builder b("empty", false);
  round_trip(b.finish({}));
}

TEST_CASE("text: printing is deterministic") {
  // attributes given in any order print sorted; two builds of the same function print alike
  auto build = [](bool reversed) {
    Builder b("f", false);
    ValueId x = b.param(T(DType::f32, {kDyn, 4}));
    Attrs a = reversed ? Attrs{{"stop", int64_t(4)}, {"step", int64_t(1)}, {"start", int64_t(1)}, {"dim", int64_t(1)}}
                       : Attrs{{"dim", int64_t(1)}, {"start", int64_t(1)}, {"step", int64_t(1)}, {"stop", int64_t(4)}};
    return b.finish({b.op(OpId::Slice, {x}, a)});
  };
  std::string a = print(build(false)), b = print(build(true));
  CHECK(a == b);
  CHECK(a.find("{dim=1, start=1, step=1, stop=4}") != std::string::npos);
  CHECK(print(parse_function(a)) == a);
}

TEST_CASE("text: malformed input names the file, line and column") {
  const std::string head = "func @f(%x: f32[2]) -> (f32[2]) {\n";
  // unknown op
  check_error(head + "  %y = frobnicate(%x) : f32[2]\n  return %y\n}\n", "2:8", "unknown op 'frobnicate'");
  // bad type, dtype and dim
  check_error("func @f(%x: f33[2]) -> () {\n  return\n}\n", "1:13", "unknown dtype 'f33'");
  check_error("func @f(%x: f32[2,-3]) -> () {\n  return\n}\n", "1:19", "a dim cannot be negative");
  check_error("func @f(%x: f32[2,x]) -> () {\n  return\n}\n", "1:19", "expected a dim (an integer or ?), got 'x'");
  check_error("func @f(%x: f32[1099511627777]) -> () {\n  return\n}\n", "1:17", "is too large");
  check_error("func @f(%x: f32[1048576,1048576,1048576,1048576]) -> () {\n  return\n}\n", "1:13",
              "more elements than fit in int64");
  check_error("func @f(%x: f32[?,1048576,1048576,1048576,1048576]) -> () {\n  return\n}\n", "1:13",
              "more elements than fit in int64");
  check_error("func @f(%x: f32) -> () {\n  return\n}\n", "1:16", "expected '[' and the dims of a type");
  {
    std::string rank65 = "func @f(%x: f32[";
    for (int i = 0; i < 65; ++i) rank65 += i ? ",1" : "1";
    check_error(rank65 + "]) -> () {\n  return\n}\n", "1:145", "at most 64 dims");
  }
  // undefined value, redefinition
  check_error(head + "  %y = neg(%z) : f32[2]\n  return %y\n}\n", "2:12", "use of undefined value %z");
  check_error(head + "  %y = neg(%x) : f32[2]\n  return %q\n}\n", "3:10", "use of undefined value %q");
  check_error(head + "  %x = neg(%x) : f32[2]\n  return %x\n}\n", "2:3", "redefinition of value %x (first defined at 1:9)");
  check_error("func @f(%x: f32[2], %x: f32[2]) -> () {\n  return\n}\n", "1:21", "redefinition of value %x");
  check_error(head + "  %y = neg(%y) : f32[2]\n  return %y\n}\n", "2:12", "use of undefined value %y");
  // wrong arity
  check_error(head + "  %y = neg(%x, %x) : f32[2]\n  return %y\n}\n", "2:8", "op 'neg' takes 1 operand, got 2");
  check_error(head + "  %y = add(%x) : f32[2]\n  return %y\n}\n", "2:8", "op 'add' takes 2 operands, got 1");
  check_error(head + "  %y = concat() {dim=0} : f32[2]\n  return %y\n}\n", "2:8", "takes one or more operands, got 0");
  // unknown, missing, ill-kinded and repeated attributes
  check_error(head + "  %y = neg(%x) {dim=0} : f32[2]\n  return %y\n}\n", "2:17", "op 'neg' has no attribute 'dim'");
  check_error(head + "  %y = sum(%x) {dims=[0]} : f32[]\n  return %y\n}\n", "2:8", "op 'sum' needs attribute 'keepdim'");
  check_error(head + "  %y = sum(%x) {dims=0, keepdim=0} : f32[]\n  return %y\n}\n", "2:22",
              "attribute 'dims' of op 'sum' must be an int list, got an int");
  check_error(head + "  %y = cast(%x) {dtype=1.5} : f32[2]\n  return %y\n}\n", "2:24", "must be a dtype, got a float");
  check_error(head + "  %y = gelu(%x) {approximate=1.0} : f32[2]\n  return %y\n}\n", "2:30", "must be an int, got a float");
  check_error(head + "  %y = cast(%x) {dtype=f16} : f32[2]\n  return %y\n}\n", "2:24", "unknown dtype 'f16'");
  check_error(head + "  %y = cast(%x) {dtype=i32, dtype=i32} : i32[2]\n  return %y\n}\n", "2:29", "given twice");
  // a declared type other than the inferred one, and a shape the op rejects
  check_error(head + "  %y = neg(%x) : f64[2]\n  return %y\n}\n", "2:18",
              "declared type f64[2] differs from the type op 'neg' gives: f32[2]");
  check_error(head + "  %y = reshape(%x) {shape=[3]} : f32[3]\n  return %y\n}\n", "2:8", "reshape");
  check_error("func @f(%x: f32[2]) -> (f32[3]) {\n  return %x\n}\n", "2:10",
              "returned value has type f32[2] but the signature declares f32[3]");
  check_error("func @f(%x: f32[2]) -> (f32[2], f32[2]) {\n  return %x\n}\n", "2:3",
              "return of 1 value but the signature of @f declares 2");
  // numbers
  check_error(head + "  %y = cast(%x) {dtype=f32} : f32[2]\n  %z = constant() {dtype=i64, value=9223372036854775808} : i64[]\n  return %y\n}\n",
              "3:37", "out of range for a 64-bit integer");
  check_error("func @c() -> () {\n  %a = constant() {dtype=f64, value=1e999} : f64[]\n  return\n}\n", "2:37",
              "out of range for a double");
  check_error("func @c() -> () {\n  %a = constant() {dtype=f64, value=12abc} : f64[]\n  return\n}\n", "2:37", "invalid number");
  check_error("func @c() -> () {\n  %a = constant() {dtype=f64, value=1.} : f64[]\n  return\n}\n", "2:39", "digits after '.'");
  check_error("func @c() -> () {\n  %a = constant() {dtype=f64, value=nan(0x1)} : f64[]\n  return\n}\n", "2:37", "not the bits of a NaN");
  // functions
  check_error("func @f() -> () {\n  return\n}\nfunc @f() -> () {\n  return\n}\n", "4:1",
              "redefinition of function @f (first defined at 1:1)");
  check_error("fun @f() -> () {}", "1:1", "expected 'func', got 'fun'");
  check_error("func @\"a\\q\"() -> () {}", "1:9", "bad escape");  // at the backslash
}

TEST_CASE("text: truncated input and garbage bytes") {
  std::string text = kModel;
  // every proper prefix that ends inside the function fails cleanly, at a place within it
  size_t first = text.find("func");
  for (size_t n = first + 1; n < text.size() - 1; ++n) {
    std::string_view cut(text.data(), n);
    CAPTURE(cut);
    ParseError e = parse_error(cut);
    CHECK(!e.message.empty());
  }
  check_error(text.substr(0, text.find("relu") + 5), "4:13", "unexpected end of input, expected a value (%name)");
  check_error(text.substr(0, text.rfind('}')), "6:1", "unexpected end of input, expected '}'");
  check_error(std::string("func @f() -> () {\n  return\n}\n\x7f"
                          "ELF\x02\x01"), "4:1", "expected 'func', got byte 0x7f");
  check_error(std::string("func @f(%x: f32[2]) -> () {\x00\n  return\n}\n", 33), "1:28", "got byte 0x00");
  check_error("\xef\xbb\xbf" "func @f() -> () {}", "1:1", "byte 0xef");
  check_error("func @f() -> () {\n  return\n}\n\"", "4:1", "expected 'func', got '\"'");
  CHECK_THROWS_WITH_AS(parse_function(""), "<input>:1:1: error: expected a function ('func @name(...)'), got end of input", Error);
  CHECK_THROWS_WITH_AS(parse_function("func @a() -> () {\n  return\n}\nfunc @b() -> () {\n  return\n}\n"),
                       "<input>:4:1: error: expected one function, found a second", Error);
}

TEST_CASE("text: mutated text gives a parse error or a valid function, never a crash") {
  // A bounded mutation fuzzer over printed functions (VMAPJIT_TEXT_FUZZ=N for a longer run).
  std::vector<std::string> seeds;
  for (auto& [name, f] : one_per_op()) seeds.push_back(print(f));
  seeds.push_back(kModel);
  const char* env = std::getenv("VMAPJIT_TEXT_FUZZ");
  int iterations = env ? std::atoi(env) : 3000;
  std::mt19937_64 rng(12345);
  const std::string tokens[] = {"%0", "%9", "?", "[", "]", "{", "}", "(", ")", ",", ":", "=", "-",
                                "f32", "i64", "bool", "inf", "nan", "9223372036854775807", "1e308",
                                "-1", "0", "1099511627776", "captured", "return", "func @g() -> () {}",
                                "dims=[0]", "dim=-9223372036854775808", "step=9223372036854775807",
                                "//", "\n", std::string(1, '\0'), "\xff"};
  int parsed = 0, errors = 0;
  for (int it = 0; it < iterations; ++it) {
    std::string s = seeds[rng() % std::size(seeds)];
    for (int m = 1 + rng() % 4; m > 0; --m) {
      size_t at = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 5) {
        case 0: if (!s.empty()) s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        case 2: s.insert(at, tokens[rng() % std::size(tokens)]); break;
        case 3: s.resize(at); break;
        default: {  // replace a number with another
          size_t d = s.find_first_of("0123456789", at);
          if (d != std::string::npos) s.replace(d, 1, tokens[16 + rng() % 7]);
        }
      }
    }
    try {
      for (const Function& f : parse(s, "fuzz.jir")) {
        ++parsed;
        std::string again = print(f);
        CHECK(print(parse_function(again)) == again);
      }
    } catch (const Error& e) {
      ++errors;
      REQUIRE_MESSAGE(e.kind() == ErrorKind::Parse, e.what());
      REQUIRE(std::string(e.what()).starts_with("fuzz.jir:"));
    }
  }
  CHECK(parsed > 0);
  CHECK(errors > 0);
}

TEST_CASE("text: attributes whose arithmetic would overflow are rejected, not mis-typed") {
  // A pad whose last element lands beyond int64, a slice with a huge step, a reshape to a shape
  // with more elements than int64 holds: each is an error, never a wrong type or a bad write.
  const char* pad = "func @f(%0: f32[4]) -> (f32[1000]) {\n"
                    "  %1 = pad(%0) {dim=0, size=1000, start=1, step=6148914691236517206} : f32[1000]\n"
                    "  return %1\n}\n";
  CHECK_THROWS_AS(parse_function(pad), Error);
  const char* slice = "func @f(%0: f32[4]) -> (f32[1]) {\n"
                      "  %1 = slice(%0) {dim=0, start=1, step=9223372036854775807, stop=4} : f32[1]\n"
                      "  return %1\n}\n";
  Function f = parse_function(slice);  // one element: index 1
  CHECK(f.type(f.outputs[0]).shape == Shape{1});
  const char* reshape = "func @f(%0: f32[4]) -> (f32[4]) {\n"
                        "  %1 = reshape(%0) {shape=[4294967296,4294967296,4]} : f32[4]\n"
                        "  return %1\n}\n";
  CHECK_THROWS_AS(parse_function(reshape), Error);
}
