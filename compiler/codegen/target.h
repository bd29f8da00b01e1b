// codegen/target.h: what code generation needs to know of the machine it targets.
#pragma once

#include <string>

namespace jit::cg {

struct TargetInfo {
  std::string triple;
  std::string cpu;       // e.g. "znver4", from the host
  std::string features;  // "+avx512f,+avx2,..."
  int vector_bytes = 16; // the widest vector registers: 64 with AVX-512, 32 with AVX2
  // Whether LLVM lowers a vector gather to the hardware's gather instruction (AVX-512, Intel's
  // fast AVX2 gathers) rather than one scalar load per lane (znver3, for one): the emitter
  // prices strided lanes by it, and keeps masks off gathers that will be scalarized (a masked
  // one becomes a branch per lane, slow to compile and to run).
  bool fast_gather = true;
  // Whether the machine has fused multiply-add: contractions then accumulate with llvm.fma
  // (one rounding), else with a multiply and an add. Either way the rounding is fixed in the
  // IR, so every optimization level computes the same bits.
  bool fma = false;
  // AVX-512F with VL: vecmath scales by 2^n with VSCALEF (one instruction, one rounding, the
  // same bits as the integer-exponent multiply it replaces) at 128, 256 and 512 bits.
  bool avx512 = false;
  // Compiling the quick tier: emit the least code that computes the same bits (no vecmath fast
  // paths, no separate loops for a register block's remainder).
  bool quick = false;
};

}  // namespace jit::cg
