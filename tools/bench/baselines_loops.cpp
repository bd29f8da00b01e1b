// tools/bench/baselines_loops.cpp: the hand-written loops (see baselines.h). Plain C++ at
// -O3 -march=native: inner loops GCC vectorizes; reductions marked `omp simd reduction` (a
// careful user's one line: without it GCC keeps the sequential float order and no SIMD);
// transcendentals from libm (std::exp, std::tanh), which GCC does not vectorize without
// -ffast-math.
#include <algorithm>
#include <cmath>

#include "baselines.h"

namespace bench {
namespace {

inline float dot_n(const float* a, const float* b, int64_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Softmax of n values in place of `out` (from `z`); returns nothing.
inline void softmax_n(const float* z, float* out, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, z[i]);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) {
    float e = std::exp(z[i] - m);
    out[i] = e;
    s += e;
  }
  float inv = 1.0f / s;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] *= inv;
}

// h = tanh(w1 x + b1); z = w2 h + b2.
inline void mlp_forward(const Mlp& m, const float* x, float* h, float* z) {
  for (int64_t j = 0; j < kHid; ++j) h[j] = std::tanh(m.b1[j] + dot_n(m.w1 + j * kIn, x, kIn));
  for (int64_t k = 0; k < kOut; ++k) z[k] = m.b2[k] + dot_n(m.w2 + k * kHid, h, kHid);
}

}  // namespace

void loop_dot(const float* x, const float* y, float* out, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) out[b] = dot_n(x + b * kDotN, y + b * kDotN, kDotN);
}

void loop_model(const float* x, const float* w, float* out, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) out[b] = std::max(0.0f, dot_n(x + b * kDotN, w, kDotN));
}

void loop_elementwise(const float* x, float* out, int64_t b0, int64_t b1) {
  for (int64_t i = b0 * kEwN; i < b1 * kEwN; ++i) {
    float v = x[i];
    out[i] = std::tanh(1.5f * v + 0.5f) * sigmoid(v) - 0.1f * std::exp(v);
  }
}

void loop_mlp(const Mlp& m, const float* x, float* out, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) {
    float h[kHid], z[kOut];
    mlp_forward(m, x + b * kIn, h, z);
    softmax_n(z, out + b * kOut, kOut);
  }
}

void loop_psg(const Mlp& m, const float* x, const float* t, const MlpGrads& g, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) {
    const float* xb = x + b * kIn;
    const float* tb = t + b * kOut;
    float h[kHid], z[kOut], p[kOut], dz[kOut], dh[kHid] = {};
    mlp_forward(m, xb, h, z);
    // loss = -sum(t * (z - logsumexp(z))): dloss/dz = softmax(z) * sum(t) - t.
    softmax_n(z, p, kOut);
    float st = 0;
    for (int64_t k = 0; k < kOut; ++k) st += tb[k];
    for (int64_t k = 0; k < kOut; ++k) dz[k] = p[k] * st - tb[k];
    float* gb2 = g.b2 + b * kOut;
    float* gw2 = g.w2 + b * kOut * kHid;
    for (int64_t k = 0; k < kOut; ++k) {
      gb2[k] = dz[k];
      const float* w2k = m.w2 + k * kHid;
#pragma omp simd
      for (int64_t j = 0; j < kHid; ++j) {
        gw2[k * kHid + j] = dz[k] * h[j];
        dh[j] += dz[k] * w2k[j];
      }
    }
    float* gb1 = g.b1 + b * kHid;
    float* gw1 = g.w1 + b * kHid * kIn;
    for (int64_t j = 0; j < kHid; ++j) {
      float da = dh[j] * (1.0f - h[j] * h[j]);
      gb1[j] = da;
#pragma omp simd
      for (int64_t i = 0; i < kIn; ++i) gw1[j * kIn + i] = da * xb[i];
    }
  }
}

void loop_jacrev(const float* a, const float* v, float* j, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    float y = std::tanh(dot_n(a + r * kJacN, v, kJacN));
    float d = 1.0f - y * y;
#pragma omp simd
    for (int64_t c = 0; c < kJacN; ++c) j[r * kJacN + c] = d * a[r * kJacN + c];
  }
}

void loop_matmul16(const float* a, const float* b, float* c, int64_t b0, int64_t b1) {
  constexpr int64_t n = kMM;
  for (int64_t s = b0; s < b1; ++s) {
    const float* as = a + s * n * n;
    const float* bs = b + s * n * n;
    float* cs = c + s * n * n;
    for (int64_t i = 0; i < n; ++i) {
      float row[n] = {};
      for (int64_t k = 0; k < n; ++k) {
        float aik = as[i * n + k];
#pragma omp simd
        for (int64_t jj = 0; jj < n; ++jj) row[jj] += aik * bs[k * n + jj];
      }
      std::copy(row, row + n, cs + i * n);
    }
  }
}

void loop_pairwise(const float* x, const float* y, float* out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t jj = 0; jj < kPairN; ++jj) {
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t k = 0; k < kPairD; ++k) {
        float d = x[i * kPairD + k] - y[jj * kPairD + k];
        s += d * d;
      }
      out[i * kPairN + jj] = std::sqrt(s);
    }
}

void loop_softmax(const float* x, float* out, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) softmax_n(x + b * kSmN, out + b * kSmN, kSmN);
}

}  // namespace bench
