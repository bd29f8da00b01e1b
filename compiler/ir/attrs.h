// ir/attrs.h: the static attributes of a node (dims, shapes, dtypes, constants), kept sorted by
// name so that printing, hashing and comparison are deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "jit/dtype.h"

namespace jit::ir {

using AttrValue = std::variant<int64_t, double, std::vector<int64_t>, DType>;
enum class AttrKind : uint8_t { Int, Float, Ints, DType, Number /* Int or Float */ };

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items);

  Attrs& set(std::string_view name, AttrValue v);
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const AttrValue* find(std::string_view name) const;

  // These assert that the attribute exists with that kind (the verifier has checked it).
  int64_t get_int(std::string_view name) const;
  double get_float(std::string_view name) const;  // an Int reads as a float too
  const std::vector<int64_t>& get_ints(std::string_view name) const;
  DType get_dtype(std::string_view name) const;

  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  bool operator==(const Attrs& o) const;  // floats compare bitwise, so NaN equals itself
  size_t hash() const;

 private:
  std::vector<std::pair<std::string, AttrValue>> items_;
};

bool attr_has_kind(const AttrValue& v, AttrKind k);
std::string_view attr_kind_name(AttrKind k);

}  // namespace jit::ir
