// examples/seed_chunked.cpp: chunk_size, from heat.vmap. A large batch runs that many samples at
// a time with the same results (chunk_size = 1 is a loop); and nested vmap, here all pairwise
// distances between two sets of points. Exits non-zero if a result differs.
#include <jit/jit.h>

#include <cmath>
#include <cstdio>

using jit::Tensor;

// The distance between two points.
static Tensor dist(const Tensor& a, const Tensor& b) { return jit::sqrt(jit::sum(jit::square(a - b))); }

int main() {
  bool ok = true;
  Tensor xs = jit::randn({1000, 8}, /*seed=*/1), ys = jit::randn({7, 8}, 2);

  // All pairs: the inner vmap maps the second argument (one x against every y), the outer one
  // the first (every x): [1000, 7].
  auto pairs = jit::vmap(jit::vmap(dist, {jit::none, 0}), {0, jit::none});
  Tensor d = pairs(xs, ys);
  std::printf("all pairwise distances: [%ld, %ld]; d[0, :] = %s\n", d.size(0), d.size(1),
              jit::select(d, 0, 0).to_string().c_str());
  double d03 = dist(jit::select(xs, 0, 0), jit::select(ys, 0, 3)).item();
  std::printf("dist(x0, y3) = %.6f, d[0, 3] = %.6f\n", d03, d.at({0, 3}));
  ok = ok && std::abs(d03 - d.at({0, 3})) < 1e-5;

  // The same in chunks of 1 (a loop), 64 and 999 samples of the outer batch.
  for (int64_t chunk : {1, 64, 999}) {
    auto chunked = jit::vmap(jit::vmap(dist, {jit::none, 0}), {0, jit::none}, 0, {.chunk_size = chunk});
    bool same = jit::allclose(chunked(xs, ys), d, 0, 0);
    std::printf("chunk_size = %ld: %s\n", chunk, same ? "the same result" : "DIFFERENT");
    ok = ok && same;
  }
  return ok ? 0 : 1;
}
