// frontend/dtype.cpp: names and sizes of dtypes and error kinds.
#include "jit/dtype.h"
#include "jit/error.h"

namespace jit {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::b8: return "bool";
  }
  return "?";
}

std::string_view error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::Shape: return "shape";
    case ErrorKind::DType: return "dtype";
    case ErrorKind::Parse: return "parse";
    case ErrorKind::Verify: return "verify";
    case ErrorKind::DataDependent: return "data-dependent";
    case ErrorKind::Randomness: return "randomness";
    case ErrorKind::BatchSize: return "batch size";
    case ErrorKind::OutOfMemory: return "out of memory";
    case ErrorKind::Compile: return "compile";
  }
  return "?";
}

}  // namespace jit
