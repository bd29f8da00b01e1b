// tests/consumer/main.cpp: uses vmapjit through the installed headers and library only.
#include <jit/jit.h>

#include <cstdio>

int main() {
  jit::Tensor xs = jit::randn({8, 3}, 1), ys = jit::randn({8, 3}, 2);
  jit::Tensor d = jit::vmap(jit::dot)(xs, ys);
  double expect = 0;
  for (int k = 0; k < 3; ++k) expect += xs.at({5, k}) * ys.at({5, k});
  std::printf("consumer: batched dot of sample 5 = %.6f (expected %.6f)\n", d.at({5}), expect);
  return std::abs(d.at({5}) - expect) < 1e-5 ? 0 : 1;
}
