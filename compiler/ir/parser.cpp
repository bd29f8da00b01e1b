// ir/parser.cpp: the textual IR's parser. It reads exactly what printer.cpp prints, strictly:
//
// 1. A hand-written recursive descent over bytes, one function per `func`, no tokenizer pass.
//    The grammar has no nesting beyond one level of lists, so there is no recursion to bound.
// 2. Values may have any %name; each function builds through ir::Builder (cse off), so the
//    result is numbered densely exactly as the printer numbers it and parse(print(f)) == f.
// 3. Every check that can name a place does so before the builder runs (names, arity,
//    attributes); the builder's own type inference errors are reported at the op.
// 4. Any bytes give a jit::Error(ErrorKind::Parse) "file:line:col: error: ...": numbers are
//    range-checked, ranks and lists bounded, and every loop consumes input.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include "ir/text.h"
#include "jit/error.h"

namespace jit::ir {
namespace {

constexpr int64_t kMaxDim = int64_t(1) << 40;  // a static dim; anything larger is a typo
constexpr size_t kMaxRank = 64;                // dims of a type, entries of an int list

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
// Value and function names: what the printer emits bare.
bool is_name_char(char c) { return is_ident_char(c) || c == '.' || c == '$' || c == '-'; }

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : s_(text), file_(file) {}

  // Every function of the text; `starts` receives the offset of each `func`.
  std::vector<Function> parse_all(std::vector<size_t>* starts) {
    std::vector<Function> out;
    std::unordered_map<std::string, size_t> names;
    while (true) {
      skip();
      if (pos_ >= s_.size()) return out;
      size_t at = pos_;
      if (starts) starts->push_back(at);
      Function f = function();
      auto [it, fresh] = names.emplace(f.name, at);
      if (!fresh)
        fail(at, fmt::format("redefinition of function @{} (first defined at {})", f.name,
                             where(it->second)));
      out.push_back(std::move(f));
    }
  }

  [[noreturn]] void fail(size_t at, const std::string& msg) const {
    throw Error(ErrorKind::Parse, fmt::format("{}:{}: error: {}", file_, where(at), msg));
  }

 private:
  // ---- position and characters ----------------------------------------------------------
  std::string where(size_t at) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at && i < s_.size(); ++i)
      if (s_[i] == '\n') ++line, line_start = i + 1;
    return fmt::format("{}:{}", line, at - line_start + 1);
  }

  // Whitespace and `//` comments.
  void skip() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  // What stands at `at`, for messages: a word, a character or a byte.
  std::string describe(size_t at) const {
    if (at >= s_.size()) return "end of input";
    char c = s_[at];
    if (is_ident_char(c)) {
      size_t e = at;
      while (e < s_.size() && e - at < 32 && is_name_char(s_[e])) ++e;
      return fmt::format("'{}'", s_.substr(at, e - at));
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
    return fmt::format("byte 0x{:02x}", u);
  }

  [[noreturn]] void unexpected(const std::string& expected) const {
    if (pos_ >= s_.size())
      fail(pos_, fmt::format("unexpected end of input, expected {}", expected));
    fail(pos_, fmt::format("expected {}, got {}", expected, describe(pos_)));
  }

  bool accept(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) unexpected(fmt::format("'{}'", c));
  }
  void expect(std::string_view word) {
    skip();
    if (!s_.substr(pos_).starts_with(word)) unexpected(fmt::format("'{}'", word));
    pos_ += word.size();
  }
  bool peek(char c) {
    skip();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  // An identifier (op, attribute, dtype, keyword); `what` names it in the error.
  std::string_view ident(std::string_view what) {
    skip();
    if (pos_ >= s_.size() || !is_ident_start(s_[pos_])) unexpected(std::string(what));
    size_t b = pos_;
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    return s_.substr(b, pos_ - b);
  }
  bool accept_word(std::string_view w) {
    skip();
    size_t e = pos_ + w.size();
    if (!s_.substr(pos_).starts_with(w) || (e < s_.size() && is_ident_char(s_[e]))) return false;
    pos_ = e;
    return true;
  }

  // ---- literals -------------------------------------------------------------------------
  // "%name" of a value.
  std::string value_name() {
    skip();
    if (pos_ >= s_.size() || s_[pos_] != '%') unexpected("a value (%name)");
    size_t b = ++pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == b) unexpected("a value name after '%'");
    return std::string(s_.substr(b, pos_ - b));
  }

  // "@name" or "@\"quoted\"" of a function.
  std::string function_name() {
    expect('@');
    std::string name;
    if (pos_ < s_.size() && s_[pos_] == '"') {
      ++pos_;
      while (true) {
        if (pos_ >= s_.size()) unexpected("'\"' closing the function name");
        char c = s_[pos_++];
        if (c == '"') return name;
        if (c == '\n') fail(pos_ - 1, "newline in a quoted function name");
        if (c != '\\') {
          name += c;
          continue;
        }
        if (pos_ >= s_.size()) unexpected("an escape sequence");
        char e = s_[pos_++];
        if (e == '\\' || e == '"') {
          name += e;
        } else if (e == 'x' && pos_ + 2 <= s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_])) &&
                   std::isxdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
          name += static_cast<char>(std::stoi(std::string(s_.substr(pos_, 2)), nullptr, 16));
          pos_ += 2;
        } else {
          fail(pos_ - 2, "bad escape in a function name (use \\\\, \\\" or \\xHH)");
        }
      }
    }
    size_t b = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == b) unexpected("a function name after '@'");
    return std::string(s_.substr(b, pos_ - b));
  }

  // A number as written: sign, digits, fraction, exponent; or inf / nan / nan(0xBITS).
  struct Number {
    bool is_float = false;
    int64_t i = 0;
    double d = 0;
  };
  Number number(std::string_view what) {
    skip();
    size_t b = pos_;
    bool neg = pos_ < s_.size() && s_[pos_] == '-';
    if (neg) ++pos_;
    Number n;
    if (accept_word("inf")) {
      n.is_float = true;
      n.d = neg ? -HUGE_VAL : HUGE_VAL;
      return n;
    }
    if (accept_word("nan")) {
      n.is_float = true;
      n.d = std::copysign(std::numeric_limits<double>::quiet_NaN(), neg ? -1.0 : 1.0);
      if (!neg && pos_ < s_.size() && s_[pos_] == '(') n.d = nan_payload(b);
      return n;
    }
    auto digits = [&] {
      size_t d = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      return pos_ > d;
    };
    if (!digits()) {
      pos_ = b;
      unexpected(std::string(what));
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      n.is_float = true;
      ++pos_;
      if (!digits()) fail(pos_, "expected digits after '.' in a number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      n.is_float = true;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) fail(pos_, "expected digits in the exponent of a number");
    }
    if (pos_ < s_.size() && is_name_char(s_[pos_]))
      fail(b, fmt::format("invalid number {}", describe(b)));
    const char* first = s_.data() + b;
    const char* last = s_.data() + pos_;
    std::from_chars_result r =
        n.is_float ? std::from_chars(first, last, n.d) : std::from_chars(first, last, n.i);
    if (r.ec != std::errc() || r.ptr != last)
      fail(b, fmt::format("number {} is out of range for {}", s_.substr(b, pos_ - b),
                          n.is_float ? "a double" : "a 64-bit integer"));
    return n;
  }
  // "(0x7ff8000000000001)" after nan: a NaN's exact bits. `b` is where the number starts.
  double nan_payload(size_t b) {
    ++pos_;
    if (!s_.substr(pos_).starts_with("0x")) fail(b, "expected nan(0xBITS) with up to 16 hex digits");
    pos_ += 2;
    size_t h = pos_;
    while (pos_ < s_.size() && pos_ - h < 17 && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    uint64_t bits = 0;
    auto r = std::from_chars(s_.data() + h, s_.data() + pos_, bits, 16);
    if (r.ec != std::errc() || pos_ - h > 16 || pos_ >= s_.size() || s_[pos_] != ')')
      fail(b, "expected nan(0xBITS) with up to 16 hex digits");
    ++pos_;
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isnan(d)) fail(b, fmt::format("0x{:x} is not the bits of a NaN", bits));
    return d;
  }
  int64_t integer(std::string_view what) {
    size_t at = (skip(), pos_);
    Number n = number(what);
    if (n.is_float) fail(at, fmt::format("expected {}, got a float", what));
    return n.i;
  }

  // ---- types ----------------------------------------------------------------------------
  DType dtype() {
    size_t at = (skip(), pos_);
    std::string_view w = ident("a dtype (f32, f64, i32, i64, bool)");
    for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::b8})
      if (dtype_name(t) == w) return t;
    fail(at, fmt::format("unknown dtype '{}' (expected f32, f64, i32, i64 or bool)", w));
  }

  Type type() {
    size_t start = (skip(), pos_);
    Type t;
    t.dtype = dtype();
    skip();
    if (pos_ >= s_.size() || s_[pos_] != '[') unexpected("'[' and the dims of a type");
    ++pos_;
    if (accept(']')) return t;
    do {
      skip();
      size_t at = pos_;
      if (t.shape.size() == kMaxRank) fail(at, fmt::format("a type has at most {} dims", kMaxRank));
      if (accept('?')) {
        t.shape.push_back(kDyn);
        continue;
      }
      if (peek('-')) fail(at, "a dim cannot be negative (use ? for the batch dim)");
      int64_t d = integer("a dim (an integer or ?)");
      if (d > kMaxDim) fail(at, fmt::format("dim {} is too large (at most 2^40)", d));
      t.shape.push_back(d);
    } while (accept(','));
    expect(']');
    int64_t n = 1;  // the static dims' product must fit, whatever the batch size
    for (int64_t d : t.shape)
      if (d != kDyn && __builtin_mul_overflow(n, d, &n))
        fail(start, fmt::format("type {} has more elements than fit in int64", to_string(t)));
    return t;
  }

  // ---- attributes -----------------------------------------------------------------------
  AttrValue attr_value() {
    skip();
    size_t at = pos_;
    if (accept('[')) {
      std::vector<int64_t> v;
      if (accept(']')) return v;
      do {
        if (v.size() == kMaxRank) fail(pos_, fmt::format("an int list has at most {} entries", kMaxRank));
        v.push_back(integer("an integer"));
      } while (accept(','));
      expect(']');
      return v;
    }
    if (pos_ < s_.size() && is_ident_start(s_[pos_]) && !s_.substr(pos_).starts_with("inf") &&
        !s_.substr(pos_).starts_with("nan"))
      return dtype();
    if (pos_ >= s_.size() || !(s_[pos_] == '-' || std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                               is_ident_start(s_[pos_])))
      unexpected("an attribute value (integer, float, [ints] or dtype)");
    pos_ = at;
    Number n = number("an attribute value");
    if (n.is_float) return n.d;
    return n.i;
  }

  static std::string_view value_kind(const AttrValue& v) {
    if (std::holds_alternative<int64_t>(v)) return "an int";
    if (std::holds_alternative<double>(v)) return "a float";
    if (std::holds_alternative<DType>(v)) return "a dtype";
    return "an int list";
  }

  // "{name=value, ...}", checked against the op's attribute specs.
  Attrs attrs(const OpInfo& op, size_t op_at) {
    Attrs a;
    if (accept('{') && !accept('}')) {
      do {
        skip();
        size_t name_at = pos_;
        std::string name(ident("an attribute name"));
        const AttrSpec* spec = nullptr;
        for (const AttrSpec& s : op.attrs)
          if (s.name == name) spec = &s;
        if (!spec) fail(name_at, fmt::format("op '{}' has no attribute '{}'{}", op.name, name, attr_list(op)));
        if (a.has(name)) fail(name_at, fmt::format("attribute '{}' is given twice", name));
        expect('=');
        size_t value_at = (skip(), pos_);
        AttrValue v = attr_value();
        if (!attr_has_kind(v, spec->kind))
          fail(value_at, fmt::format("attribute '{}' of op '{}' must be {} {}, got {}", name, op.name,
                                     attr_kind_name(spec->kind)[0] == 'i' ? "an" : "a", attr_kind_name(spec->kind),
                                     value_kind(v)));
        a.set(name, std::move(v));
      } while (accept(','));
      expect('}');
    }
    for (const AttrSpec& s : op.attrs)
      if (s.required && !a.has(s.name))
        fail(op_at, fmt::format("op '{}' needs attribute '{}' ({})", op.name, s.name, attr_kind_name(s.kind)));
    return a;
  }
  static std::string attr_list(const OpInfo& op) {
    if (op.attrs.empty()) return " (it takes none)";
    std::string s = " (it takes ";
    for (size_t i = 0; i < op.attrs.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", op.attrs[i].name);
    return s + ")";
  }

  // ---- functions ------------------------------------------------------------------------
  struct Scope {
    std::unordered_map<std::string, std::pair<ValueId, size_t>> values;  // -> id, defined at
  };

  void define(Scope& sc, const std::string& name, size_t at, ValueId id) {
    auto [it, fresh] = sc.values.emplace(name, std::make_pair(id, at));
    if (!fresh)
      fail(at, fmt::format("redefinition of value %{} (first defined at {})", name, where(it->second.second)));
  }
  ValueId use(const Scope& sc) {
    size_t at = (skip(), pos_);
    std::string name = value_name();
    auto it = sc.values.find(name);
    if (it == sc.values.end()) fail(at, fmt::format("use of undefined value %{}", name));
    return it->second.first;
  }

  Function function() {
    size_t at = (skip(), pos_);
    if (!accept_word("func")) {
      pos_ = at;
      unexpected("'func'");
    }
    std::string name = function_name();
    Builder b(name, /*cse=*/false);
    Scope sc;
    expect('(');
    if (!accept(')')) {
      do {
        size_t pat = (skip(), pos_);
        std::string pname = value_name();
        expect(':');
        Type t = type();
        bool captured = accept_word("captured");
        define(sc, pname, pat, b.param(t, captured));
      } while (accept(','));
      expect(')');
    }
    expect("->");
    expect('(');
    std::vector<std::pair<Type, size_t>> results;
    if (!accept(')')) {
      do {
        size_t tat = (skip(), pos_);
        results.push_back({type(), tat});
      } while (accept(','));
      expect(')');
    }
    expect('{');
    while (true) {
      skip();
      size_t sat = pos_;
      if (accept_word("return")) break;
      if (pos_ >= s_.size() || s_[pos_] != '%') unexpected("a node (%name = op(...)) or 'return'");
      node(b, sc, sat);
    }
    size_t ret_at = pos_ - 6;
    std::vector<ValueId> outs;
    std::vector<size_t> out_at;
    if (peek('%')) {
      do {
        out_at.push_back((skip(), pos_));
        outs.push_back(use(sc));
      } while (accept(','));
    }
    expect('}');
    if (outs.size() != results.size())
      fail(ret_at, fmt::format("return of {} value{} but the signature of @{} declares {}", outs.size(),
                               outs.size() == 1 ? "" : "s", name, results.size()));
    for (size_t i = 0; i < outs.size(); ++i)
      if (!(b.type(outs[i]) == results[i].first))
        fail(out_at[i], fmt::format("returned value has type {} but the signature declares {} (at {})",
                                    to_string(b.type(outs[i])), to_string(results[i].first),
                                    where(results[i].second)));
    return b.finish(outs);
  }

  // "%name = op(%a, %b) {attrs} : type"
  void node(Builder& b, Scope& sc, size_t at) {
    std::string name = value_name();
    if (sc.values.count(name)) define(sc, name, at, 0);  // reports the redefinition
    expect('=');
    size_t op_at = (skip(), pos_);
    std::string_view opname = ident("an op name");
    const OpInfo* op = find_op(opname);
    if (!op) fail(op_at, fmt::format("unknown op '{}'", opname));
    expect('(');
    std::vector<ValueId> operands;
    if (!accept(')')) {
      do operands.push_back(use(sc));
      while (accept(','));
      expect(')');
    }
    int n = static_cast<int>(operands.size());
    if (op->arity >= 0 ? n != op->arity : n == 0)
      fail(op_at, fmt::format("op '{}' takes {} operand{}, got {}", op->name,
                              op->arity >= 0 ? std::to_string(op->arity) : "one or more",
                              op->arity == 1 ? "" : "s", n));
    Attrs a = attrs(*op, op_at);
    expect(':');
    size_t type_at = (skip(), pos_);
    Type declared = type();
    ValueId v;
    try {
      v = b.op(op->id, std::move(operands), std::move(a));
    } catch (const Error& e) {
      fail(op_at, e.what());
    }
    if (!(b.type(v) == declared))
      fail(type_at, fmt::format("declared type {} differs from the type op '{}' gives: {}",
                                to_string(declared), op->name, to_string(b.type(v))));
    define(sc, name, at, v);
  }

  std::string_view s_;
  std::string file_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Function> parse(std::string_view text, std::string_view filename) {
  return Parser(text, filename).parse_all(nullptr);
}

Function parse_function(std::string_view text, std::string_view filename) {
  Parser p(text, filename);
  std::vector<size_t> starts;
  std::vector<Function> fs = p.parse_all(&starts);
  if (fs.empty()) p.fail(text.size(), "expected a function ('func @name(...)'), got end of input");
  if (fs.size() > 1) p.fail(starts[1], "expected one function, found a second");
  return std::move(fs[0]);
}

}  // namespace jit::ir
