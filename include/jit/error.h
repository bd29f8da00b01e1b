// jit/error.h: the one exception type users see.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace jit {

enum class ErrorKind {
  InvalidArgument,  // a bad argument to an API call (in_dims, options, dims)
  Shape,            // shapes that do not fit an op
  DType,            // dtypes that do not fit an op
  Parse,            // malformed textual IR
  Verify,           // IR that breaks an invariant
  DataDependent,    // reading a traced value (item(), bool conversion) while tracing
  Randomness,       // a random op under Randomness::Error
  BatchSize,        // mapped arguments with different batch sizes
  OutOfMemory,      // an allocation that cannot be made
  Compile,          // the backend failed to compile a function
};

std::string_view error_kind_name(ErrorKind k);

// Everything a user can cause is reported as a jit::Error whose message names the function, the
// argument, the op and the shapes involved. Compiler bugs are assertions, not Errors.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace jit
