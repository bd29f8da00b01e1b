// ops/philox.h: Philox-4x32-10 (Salmon et al., SC'11), the counter-based generator behind every
// random op: the bits of element j of random op `stream` in call `call` under `seed` are
// philox({j, j >> 32, stream, call}, {seed, (seed >> 32) ^ (call >> 32)}), so values do not depend
// on chunking or threads. The LLVM backend emits the same rounds.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace jit::ir::philox {

using Block = std::array<uint32_t, 4>;

inline Block rounds(Block c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c[0], p1 = uint64_t(0xCD9E8D57u) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1,
         uint32_t(p0)};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

inline Block bits(uint64_t seed, uint64_t call, uint32_t stream, uint64_t j) {
  return rounds({uint32_t(j), uint32_t(j >> 32), stream, uint32_t(call)}, uint32_t(seed),
                uint32_t(seed >> 32) ^ uint32_t(call >> 32));
}

// Uniform in [0, 1) with 24 (f32) or 53 (f64) random bits.
inline float uniform_f32(uint32_t x) { return float(x >> 8) * 0x1p-24f; }
inline double uniform_f64(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * 0x1p-53;
}

// Standard normal by Box-Muller from two uniforms, the first in (0, 1].
inline double normal(double u1_open, double u2) {
  return std::sqrt(-2.0 * std::log(u1_open)) * std::cos(2.0 * M_PI * u2);
}
inline double normal_f32(const Block& b) {
  return normal((double(b[0] >> 8) + 1.0) * 0x1p-24, double(b[1] >> 8) * 0x1p-24);
}
inline double normal_f64(const Block& b) {
  return normal(uniform_f64(b[0], b[1]) + 0x1p-53, uniform_f64(b[2], b[3]));
}

}  // namespace jit::ir::philox
