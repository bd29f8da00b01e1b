// ir/attrs.cpp: sorted attribute lists.
#include "ir/attrs.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

namespace jit::ir {

Attrs::Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items) {
  for (const auto& [k, v] : items) set(k, v);
}

Attrs& Attrs::set(std::string_view name, AttrValue v) {
  auto it = std::lower_bound(items_.begin(), items_.end(), name,
                             [](const auto& p, std::string_view n) { return p.first < n; });
  if (it != items_.end() && it->first == name)
    it->second = std::move(v);
  else
    items_.insert(it, {std::string(name), std::move(v)});
  return *this;
}

const AttrValue* Attrs::find(std::string_view name) const {
  auto it = std::lower_bound(items_.begin(), items_.end(), name,
                             [](const auto& p, std::string_view n) { return p.first < n; });
  return it != items_.end() && it->first == name ? &it->second : nullptr;
}

int64_t Attrs::get_int(std::string_view name) const {
  const AttrValue* v = find(name);
  assert(v && std::holds_alternative<int64_t>(*v));
  return std::get<int64_t>(*v);
}

double Attrs::get_float(std::string_view name) const {
  const AttrValue* v = find(name);
  assert(v && (std::holds_alternative<double>(*v) || std::holds_alternative<int64_t>(*v)));
  if (auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return std::get<double>(*v);
}

const std::vector<int64_t>& Attrs::get_ints(std::string_view name) const {
  const AttrValue* v = find(name);
  assert(v && std::holds_alternative<std::vector<int64_t>>(*v));
  return std::get<std::vector<int64_t>>(*v);
}

DType Attrs::get_dtype(std::string_view name) const {
  const AttrValue* v = find(name);
  assert(v && std::holds_alternative<DType>(*v));
  return std::get<DType>(*v);
}

bool Attrs::operator==(const Attrs& o) const {
  if (items_.size() != o.items_.size()) return false;
  for (size_t i = 0; i < items_.size(); ++i) {
    const auto &[ka, va] = items_[i];
    const auto &[kb, vb] = o.items_[i];
    if (ka != kb || va.index() != vb.index()) return false;
    if (auto* d = std::get_if<double>(&va)) {
      if (std::memcmp(d, &std::get<double>(vb), sizeof(double)) != 0) return false;
    } else if (va != vb) {
      return false;
    }
  }
  return true;
}

size_t Attrs::hash() const {
  size_t h = items_.size();
  auto mix = [&h](size_t x) { h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  for (const auto& [k, v] : items_) {
    mix(std::hash<std::string>{}(k));
    mix(v.index());
    if (auto* i = std::get_if<int64_t>(&v)) mix(static_cast<size_t>(*i));
    if (auto* d = std::get_if<double>(&v)) {
      uint64_t bits;
      std::memcpy(&bits, d, sizeof bits);
      mix(bits);
    }
    if (auto* l = std::get_if<std::vector<int64_t>>(&v))
      for (int64_t x : *l) mix(static_cast<size_t>(x));
    if (auto* t = std::get_if<DType>(&v)) mix(static_cast<size_t>(*t));
  }
  return h;
}

bool attr_has_kind(const AttrValue& v, AttrKind k) {
  switch (k) {
    case AttrKind::Int: return std::holds_alternative<int64_t>(v);
    case AttrKind::Float: return std::holds_alternative<double>(v);
    case AttrKind::Ints: return std::holds_alternative<std::vector<int64_t>>(v);
    case AttrKind::DType: return std::holds_alternative<DType>(v);
    case AttrKind::Number:
      return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
  }
  return false;
}

std::string_view attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::Int: return "int";
    case AttrKind::Float: return "float";
    case AttrKind::Ints: return "int list";
    case AttrKind::DType: return "dtype";
    case AttrKind::Number: return "number";
  }
  return "?";
}

}  // namespace jit::ir
