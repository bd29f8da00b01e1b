// ir/text.h: the textual IR. One generic syntax for every op, deterministic (dense value
// numbers, attributes sorted by name), and exact: parse(print(f)) == f.
//
//   func @model(%0: f32[64], %1: f32[64] captured) -> (f32[]) {
//     %2 = dot_general(%0, %1) {batch_lhs=[], batch_rhs=[], contract_lhs=[0], contract_rhs=[0]} : f32[]
//     %3 = relu(%2) : f32[]
//     return %3
//   }
//
// Types are dtype[dims]; `?` is the dynamic batch dim. Attribute values are integers, floats
// (always with a '.', an exponent, inf or nan; a NaN other than the default ones as its bits,
// nan(0x7ff4000000000000)), integer lists [1,2] and dtypes. A function name other than
// [A-Za-z0-9_.$-]+ is quoted: @"vmap(f)". `//` starts a comment. A text holds any number of
// functions. The parser takes any %name for a value; the printer numbers them densely.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"

namespace jit::ir {

std::string print(const Function& f);
std::string print_node(const Function& f, const Node& n);  // one "%3 = relu(%2) : f32[]" line
std::string print_attr_value(const AttrValue& v);
std::string print_function_name(const std::string& name);  // "@model", "@\"vmap(f)\""

// Parses every function of a text (none for an empty one), strictly: errors are
// jit::Error(ErrorKind::Parse) with the message "file:line:col: error: ..." for any malformed
// input (unknown op, bad type, undefined or redefined value, wrong arity, bad attributes, a
// declared type other than the inferred one, truncated input, any bytes at all). Each function
// is built through ir::Builder without CSE, so parse(print(f)) == f. It does not verify.
std::vector<Function> parse(std::string_view text, std::string_view filename = "<input>");
// Exactly one function.
Function parse_function(std::string_view text, std::string_view filename = "<input>");

}  // namespace jit::ir
