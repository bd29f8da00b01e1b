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
// (always with a '.', an exponent, inf or nan), integer lists [1,2] and dtypes. `//` starts a
// comment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"

namespace jit::ir {

std::string print(const Function& f);
std::string print_node(const Function& f, const Node& n);  // one "%3 = relu(%2) : f32[]" line
std::string print_attr_value(const AttrValue& v);

// Parses one or more functions. Errors are jit::Error(ErrorKind::Parse) with the message
// "file:line:col: error: ...".
std::vector<Function> parse(std::string_view text, std::string_view filename = "<input>");
Function parse_function(std::string_view text, std::string_view filename = "<input>");

}  // namespace jit::ir
