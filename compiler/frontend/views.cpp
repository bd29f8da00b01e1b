// frontend/views.cpp: views and strided copies of concrete tensors.
#include "frontend/views.h"

#include <fmt/format.h>

#include <cstring>

#include "frontend/dispatch.h"
#include "ops/family.h"

namespace jit::detail {

Tensor narrow_view(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  auto impl = std::make_shared<TensorImpl>(t.impl());
  impl->storage = share_storage(t.impl_ptr());
  impl->offset += start * impl->strides[dim];
  impl->shape[dim] = length;
  return Tensor(std::move(impl));
}

Tensor permute_view(const Tensor& t, const Shape& perm) {
  auto impl = std::make_shared<TensorImpl>(t.impl());
  impl->storage = share_storage(t.impl_ptr());
  for (size_t i = 0; i < perm.size(); ++i) {
    impl->shape[i] = t.shape()[perm[i]];
    impl->strides[i] = t.strides()[perm[i]];
  }
  return Tensor(std::move(impl));
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.shape() != src.shape() || dst.dtype() != src.dtype())
    throw Error(ErrorKind::Shape, fmt::format("cannot copy {} into {}", describe(src), describe(dst)));
  int64_t w = dtype_size(src.dtype());
  char *d = static_cast<char*>(dst.data()), *s = static_cast<char*>(src.data());
  for (ir::IndexWalker it(dst.shape(), {dst.strides(), src.strides()}); !it.done(); it.next())
    std::memcpy(d + it.offset(0) * w, s + it.offset(1) * w, w);
}

}  // namespace jit::detail
