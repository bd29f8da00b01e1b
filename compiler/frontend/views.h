// frontend/views.h: views of concrete tensors (no copy) and strided copies, for the runtime's
// batch slicing and output writing.
#pragma once

#include "jit/tensor.h"

namespace jit::detail {

// Elements [start, start + length) of `dim`, sharing t's storage.
Tensor narrow_view(const Tensor& t, int64_t dim, int64_t start, int64_t length);
// The dims of t reordered, sharing its storage.
Tensor permute_view(const Tensor& t, const Shape& perm);
// Copies src into dst elementwise (same shape; any strides; dst is written in place).
void copy_into(const Tensor& dst, const Tensor& src);

}  // namespace jit::detail
