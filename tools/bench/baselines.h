// tools/bench/baselines.h: the hand-written baselines, as a careful user writes them: plain
// loops over row-major float buffers that GCC vectorizes at -O3 -march=native (reductions
// marked `omp simd`), and Eigen where it fits. Each runs the samples [b0, b1) of a batch.
#pragma once

#include <cstdint>

namespace bench {

// Per-sample sizes of the workloads.
constexpr int64_t kDotN = 64;                               // dot, model
constexpr int64_t kEwN = 1000;                              // elementwise chain
constexpr int64_t kIn = 64, kHid = 128, kOut = 10;          // MLP
constexpr int64_t kJacN = 128;                              // jacrev of tanh(A v)
constexpr int64_t kMM = 16;                                 // per-sample matmul
constexpr int64_t kPairN = 512, kPairD = 16;                // pairwise distances
constexpr int64_t kSmN = 1024;                              // softmax

struct Mlp {
  const float *w1, *b1, *w2, *b2;  // [kHid, kIn], [kHid], [kOut, kHid], [kOut]
};

// out[b] = x[b] . y[b]
void loop_dot(const float* x, const float* y, float* out, int64_t b0, int64_t b1);
void eigen_dot(const float* x, const float* y, float* out, int64_t b0, int64_t b1);
// out[b] = relu(x[b] . w)
void loop_model(const float* x, const float* w, float* out, int64_t b0, int64_t b1);
void eigen_model(const float* x, const float* w, float* out, int64_t b0, int64_t b1);
// out = tanh(1.5 x + 0.5) * sigmoid(x) - 0.1 exp(x), per element of [batch, kEwN]
void loop_elementwise(const float* x, float* out, int64_t b0, int64_t b1);
void eigen_elementwise(const float* x, float* out, int64_t b0, int64_t b1);
// out[b] = softmax(w2 tanh(w1 x[b] + b1) + b2)
void loop_mlp(const Mlp& m, const float* x, float* out, int64_t b0, int64_t b1);
void eigen_mlp(const Mlp& m, const float* x, float* out, int64_t b0, int64_t b1);
// Per-sample gradients of -sum(t * log_softmax(mlp logits)) for w1, b1, w2, b2.
struct MlpGrads {
  float *w1, *b1, *w2, *b2;  // [batch, kHid, kIn], [batch, kHid], [batch, kOut, kHid], [batch, kOut]
};
void loop_psg(const Mlp& m, const float* x, const float* t, const MlpGrads& g, int64_t b0, int64_t b1);
void eigen_psg(const Mlp& m, const float* x, const float* t, const MlpGrads& g, int64_t b0, int64_t b1);
// J = d tanh(A v) / dv, [kJacN, kJacN]: rows [r0, r1)
void loop_jacrev(const float* a, const float* v, float* j, int64_t r0, int64_t r1);
void eigen_jacrev(const float* a, const float* v, float* j, int64_t r0, int64_t r1);
// c[b] = a[b] @ b[b], 16 x 16
void loop_matmul16(const float* a, const float* b, float* c, int64_t b0, int64_t b1);
void eigen_matmul16(const float* a, const float* b, float* c, int64_t b0, int64_t b1);
// out[i, j] = |x[i] - y[j]|, x and y [kPairN, kPairD]: rows i in [i0, i1)
void loop_pairwise(const float* x, const float* y, float* out, int64_t i0, int64_t i1);
void eigen_pairwise(const float* x, const float* y, float* out, int64_t i0, int64_t i1);
// out[b] = softmax(x[b]), [batch, kSmN]
void loop_softmax(const float* x, float* out, int64_t b0, int64_t b1);
void eigen_softmax(const float* x, float* out, int64_t b0, int64_t b1);

}  // namespace bench
