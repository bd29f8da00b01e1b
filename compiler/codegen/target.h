// codegen/target.h: what code generation needs to know of the machine it targets.
#pragma once

#include <string>

namespace jit::cg {

struct TargetInfo {
  std::string triple;
  std::string cpu;       // e.g. "znver4", from the host
  std::string features;  // "+avx512f,+avx2,..."
  int vector_bytes = 16; // the widest vector registers: 64 with AVX-512, 32 with AVX2
};

}  // namespace jit::cg
