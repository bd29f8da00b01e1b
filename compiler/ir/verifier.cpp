// ir/verifier.cpp: the IR verifier.
#include "ir/verifier.h"

#include <fmt/format.h>

#include <set>

#include "ir/text.h"

namespace jit::ir {

void verify(const Function& f) {
  auto fail = [&](const std::string& where, const std::string& what) {
    throw Error(ErrorKind::Verify, fmt::format("verify: function '{}': {}: {}", f.name, where, what));
  };
  for (size_t i = 0; i < f.params.size(); ++i)
    for (int64_t d : f.params[i].type.shape)
      if (d < 0 && d != kDyn) fail(fmt::format("parameter %{}", i), "negative dim");
  std::set<int64_t> streams;
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const Node& n = f.nodes[i];
    ValueId self = f.value_of_node(i);
    if (static_cast<size_t>(n.op) >= static_cast<size_t>(kNumOps))
      fail(fmt::format("%{}", self), fmt::format("op id {} is not in the op table", static_cast<int>(n.op)));
    std::string where = fmt::format("%{} = {}", self, op_info(n.op).name);
    if (!n.regions.empty()) fail(where, "has a nested region, which no op takes yet");
    std::vector<Type> types;
    for (ValueId v : n.operands) {
      if (v < 0 || v >= self) fail(where, fmt::format("operand %{} is not defined before use", v));
      types.push_back(f.type(v));
    }
    Type t;
    try {
      t = infer_type(n.op, types, n.attrs);
    } catch (const Error& e) {
      fail(where, e.what());
    }
    if (!(t == n.type))
      fail(where, fmt::format("its type is {} but the op gives {}", to_string(n.type), to_string(t)));
    if (op_info(n.op).cls == OpClass::Random && !streams.insert(n.attrs.get_int("stream")).second)
      fail(where, fmt::format("random stream {} is used twice", n.attrs.get_int("stream")));
  }
  for (ValueId v : f.outputs)
    if (v < 0 || v >= f.num_values()) fail("return", fmt::format("%{} is not defined", v));
}

}  // namespace jit::ir
