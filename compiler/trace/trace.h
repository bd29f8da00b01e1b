// trace/trace.h: recording a function's IR by running it on symbolic tensors.
//
// 1. A Trace owns a Builder. While a TraceScope is open, it is this thread's current trace and
//    every tensor op appends a node to it instead of computing.
// 2. Operands that are not values of the current trace are lifted into it as captured
//    parameters: concrete tensors (the closure's weights) and values of an enclosing trace (a
//    nested vmap's closure). The trace keeps the captured tensors; they are read at call time.
// 3. Reading a symbolic value (item(), bool conversion) throws: control flow cannot depend on it.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/ir.h"
#include "jit/tensor.h"

namespace jit::detail {

class Trace : public std::enable_shared_from_this<Trace> {
 public:
  explicit Trace(std::string name);

  // The innermost open trace of this thread, or nullptr.
  static Trace* current();

  const std::string& name() const { return name_; }
  bool active() const { return active_; }
  ir::Builder& builder() { return builder_; }

  // A new parameter as a symbolic tensor (captured: an implicit input of the function).
  Tensor input(const ir::Type& t, bool captured = false);
  // The value of t in this trace, lifting it as a capture when it comes from elsewhere.
  ir::ValueId value_of(const Tensor& t);
  Tensor symbolic(ir::ValueId v);
  // A fresh stream id for a random op.
  int64_t next_stream() { return streams_++; }

  // Appends g's nodes with its parameters bound to `inputs` (random ops get fresh streams);
  // returns g's outputs as values of this trace.
  std::vector<Tensor> inline_function(const ir::Function& g, std::span<const Tensor> inputs);

  // The tensors behind the captured parameters, in parameter order.
  const std::vector<Tensor>& captures() const { return captures_; }
  ir::Function finish(const std::vector<Tensor>& outputs);

 private:
  friend class TraceScope;
  std::string name_;
  ir::Builder builder_;
  std::vector<Tensor> captures_;
  std::unordered_map<const TensorImpl*, ir::ValueId> captured_;
  int64_t streams_ = 0;
  bool active_ = false;
};

// Makes a trace current for its lifetime (traces nest).
class TraceScope {
 public:
  explicit TraceScope(std::shared_ptr<Trace> t);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  std::shared_ptr<Trace> trace_;
  Trace* hidden_;  // the trace current before this scope, current again after it
};

// The error for reading a traced value.
[[noreturn]] void throw_data_dependent(const Tensor& t, const char* what);

}  // namespace jit::detail
