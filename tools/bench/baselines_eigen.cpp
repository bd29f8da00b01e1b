// tools/bench/baselines_eigen.cpp: the Eigen baselines (see baselines.h): matrix products as
// GEMM/GEMV over the whole batch range, elementwise and softmax as Eigen arrays (whose exp, tanh
// and logistic are vectorized), scratch reused across calls. Eigen's own threading is off (the
// batch is split by the caller).
#include <Eigen/Dense>

#include <vector>

#include "baselines.h"

namespace bench {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMat>;
using CMap = Eigen::Map<const RowMat>;
using CVec = Eigen::Map<const Eigen::VectorXf>;
using Vec = Eigen::Map<Eigen::VectorXf>;

// Per-thread scratch that only grows.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buf[4];
  if (int64_t(buf[slot].size()) < n) buf[slot].resize(n);
  return buf[slot].data();
}

// z = tanh(x w1^T + b1) w2^T + b2 for rows of x; h kept.
void mlp_forward(const Mlp& m, CMap x, Map h, Map z) {
  CMap w1(m.w1, kHid, kIn), w2(m.w2, kOut, kHid);
  h.noalias() = x * w1.transpose();
  h.rowwise() += CVec(m.b1, kHid).transpose();
  h = h.array().tanh();
  z.noalias() = h * w2.transpose();
  z.rowwise() += CVec(m.b2, kOut).transpose();
}

void softmax_rows(Map z) {
  Eigen::VectorXf mx = z.rowwise().maxCoeff();
  z = (z.colwise() - mx).array().exp();
  Eigen::VectorXf s = z.rowwise().sum();
  z.array().colwise() /= s.array();
}

}  // namespace

void eigen_dot(const float* x, const float* y, float* out, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0;
  CMap X(x + b0 * kDotN, n, kDotN), Y(y + b0 * kDotN, n, kDotN);
  Vec(out + b0, n) = X.cwiseProduct(Y).rowwise().sum();
}

void eigen_model(const float* x, const float* w, float* out, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0;
  Vec o(out + b0, n);
  o.noalias() = CMap(x + b0 * kDotN, n, kDotN) * CVec(w, kDotN);
  o = o.cwiseMax(0.0f);
}

void eigen_elementwise(const float* x, float* out, int64_t b0, int64_t b1) {
  int64_t n = (b1 - b0) * kEwN;
  auto a = Eigen::Map<const Eigen::ArrayXf>(x + b0 * kEwN, n);
  Eigen::Map<Eigen::ArrayXf>(out + b0 * kEwN, n) = (1.5f * a + 0.5f).tanh() * a.logistic() - 0.1f * a.exp();
}

void eigen_mlp(const Mlp& m, const float* x, float* out, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0;
  Map h(scratch(0, n * kHid), n, kHid), z(out + b0 * kOut, n, kOut);
  mlp_forward(m, CMap(x + b0 * kIn, n, kIn), h, z);
  softmax_rows(z);
}

void eigen_psg(const Mlp& m, const float* x, const float* t, const MlpGrads& g, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0;
  CMap X(x + b0 * kIn, n, kIn), T(t + b0 * kOut, n, kOut);
  Map h(scratch(0, n * kHid), n, kHid), dz(g.b2 + b0 * kOut, n, kOut), da(g.b1 + b0 * kHid, n, kHid);
  mlp_forward(m, X, h, dz);
  softmax_rows(dz);
  dz = dz.array().colwise() * T.rowwise().sum().array() - T.array();      // dloss/dz
  da.noalias() = dz * CMap(m.w2, kOut, kHid);                               // dloss/dh
  da = da.array() * (1.0f - h.array().square());                           // dloss/d(w1 x + b1)
  for (int64_t s = 0; s < n; ++s) {
    int64_t b = b0 + s;
    Map(g.w2 + b * kOut * kHid, kOut, kHid).noalias() = dz.row(s).transpose() * h.row(s);
    Map(g.w1 + b * kHid * kIn, kHid, kIn).noalias() = da.row(s).transpose() * X.row(s);
  }
}

void eigen_jacrev(const float* a, const float* v, float* j, int64_t r0, int64_t r1) {
  int64_t n = r1 - r0;
  CMap A(a + r0 * kJacN, n, kJacN);
  Eigen::VectorXf y = (A * CVec(v, kJacN)).array().tanh();
  Map(j + r0 * kJacN, n, kJacN).noalias() = (1.0f - y.array().square()).matrix().asDiagonal() * A;
}

void eigen_matmul16(const float* a, const float* b, float* c, int64_t b0, int64_t b1) {
  using M16 = Eigen::Matrix<float, kMM, kMM, Eigen::RowMajor>;
  for (int64_t s = b0; s < b1; ++s)
    Eigen::Map<M16>(c + s * kMM * kMM).noalias() =
        Eigen::Map<const M16>(a + s * kMM * kMM) * Eigen::Map<const M16>(b + s * kMM * kMM);
}

// |x - y|^2 = |x|^2 + |y|^2 - 2 x.y, the cross term one GEMM (as torch.cdist does).
void eigen_pairwise(const float* x, const float* y, float* out, int64_t i0, int64_t i1) {
  int64_t n = i1 - i0;
  CMap X(x + i0 * kPairD, n, kPairD), Y(y, kPairN, kPairD);
  Map o(out + i0 * kPairN, n, kPairN);
  Eigen::VectorXf xn = X.rowwise().squaredNorm(), yn = Y.rowwise().squaredNorm();
  o.noalias() = -2.0f * X * Y.transpose();
  o.colwise() += xn;
  o.rowwise() += yn.transpose();
  o = o.cwiseMax(0.0f).cwiseSqrt();
}

void eigen_softmax(const float* x, float* out, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0;
  Map o(out + b0 * kSmN, n, kSmN);
  o = CMap(x + b0 * kSmN, n, kSmN);
  softmax_rows(o);
}

}  // namespace bench
