// ops/family.cpp: shared helpers of the op families.
#include "ops/family.h"

#include "ops/scalar_math.h"

namespace jit::ir {

void op_fail(const OpInfo& op, ErrorKind kind, const std::string& what) {
  throw Error(kind, fmt::format("op '{}': {}", op.name, what));
}

std::string types_list(std::span<const Type> in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) s += (i ? ", " : "") + to_string(in[i]);
  return s;
}

Shape broadcast_shapes(const OpInfo& op, std::span<const Type> in) {
  size_t rank = 0;
  for (const Type& t : in) rank = std::max(rank, t.shape.size());
  Shape out(rank, 1);
  for (const Type& t : in) {
    size_t off = rank - t.shape.size();
    for (size_t i = 0; i < t.shape.size(); ++i) {
      int64_t d = t.shape[i], &o = out[off + i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      op_fail(op, ErrorKind::Shape,
              fmt::format("shapes {} do not broadcast (dim {} is {} in one and {} in another)",
                          types_list(in), static_cast<int64_t>(off + i) - static_cast<int64_t>(rank),
                          d == kDyn ? std::string("?") : std::to_string(d),
                          o == kDyn ? std::string("?") : std::to_string(o)));
    }
  }
  return out;
}

DType same_dtype(const OpInfo& op, std::span<const Type> in) {
  for (const Type& t : in)
    if (t.dtype != in[0].dtype)
      op_fail(op, ErrorKind::DType,
              fmt::format("operands must have one dtype, got {}", types_list(in)));
  return in.empty() ? DType::f32 : in[0].dtype;
}

int64_t check_dim(const OpInfo& op, std::string_view attr, int64_t dim, int64_t rank,
                  const Type& t) {
  if (dim < 0 || dim >= rank)
    op_fail(op, ErrorKind::InvalidArgument,
            fmt::format("{}={} is out of range for {} (rank {})", attr, dim, to_string(t), rank));
  return dim;
}

double load_double(const Tensor& t, int64_t i) {
  char* p = static_cast<char*>(t.data());
  switch (t.dtype()) {
    case DType::f32: return reinterpret_cast<float*>(p)[i];
    case DType::f64: return reinterpret_cast<double*>(p)[i];
    case DType::i32: return reinterpret_cast<int32_t*>(p)[i];
    case DType::i64: return static_cast<double>(reinterpret_cast<int64_t*>(p)[i]);
    case DType::b8: return reinterpret_cast<uint8_t*>(p)[i];
  }
  return 0;
}

int64_t load_int(const Tensor& t, int64_t i) {
  char* p = static_cast<char*>(t.data());
  switch (t.dtype()) {
    case DType::f32: return scalar::saturating_cast<int64_t>(reinterpret_cast<float*>(p)[i]);
    case DType::f64: return scalar::saturating_cast<int64_t>(reinterpret_cast<double*>(p)[i]);
    case DType::i32: return reinterpret_cast<int32_t*>(p)[i];
    case DType::i64: return reinterpret_cast<int64_t*>(p)[i];
    case DType::b8: return reinterpret_cast<uint8_t*>(p)[i];
  }
  return 0;
}

void store_double(const Tensor& t, int64_t i, double v) {
  char* p = static_cast<char*>(t.data());
  switch (t.dtype()) {
    case DType::f32: reinterpret_cast<float*>(p)[i] = static_cast<float>(v); return;
    case DType::f64: reinterpret_cast<double*>(p)[i] = v; return;
    case DType::i32: reinterpret_cast<int32_t*>(p)[i] = scalar::saturating_cast<int32_t>(v); return;
    case DType::i64: reinterpret_cast<int64_t*>(p)[i] = scalar::saturating_cast<int64_t>(v); return;
    case DType::b8: reinterpret_cast<uint8_t*>(p)[i] = v != 0; return;
  }
}

void store_int(const Tensor& t, int64_t i, int64_t v) {
  char* p = static_cast<char*>(t.data());
  switch (t.dtype()) {
    case DType::f32: reinterpret_cast<float*>(p)[i] = static_cast<float>(v); return;
    case DType::f64: reinterpret_cast<double*>(p)[i] = static_cast<double>(v); return;
    case DType::i32: reinterpret_cast<int32_t*>(p)[i] = static_cast<int32_t>(v); return;
    case DType::i64: reinterpret_cast<int64_t*>(p)[i] = v; return;
    case DType::b8: reinterpret_cast<uint8_t*>(p)[i] = v != 0; return;
  }
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  Shape cs = contiguous_strides(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : cs[i];
  return st;
}

IndexWalker::IndexWalker(const Shape& shape, std::vector<Shape> strides)
    : shape_(shape), idx_(shape.size(), 0), strides_(std::move(strides)),
      offsets_(strides_.size(), 0) {
  done_ = false;
  for (int64_t d : shape_) done_ |= d == 0;
}

void IndexWalker::next() {
  for (size_t i = shape_.size(); i-- > 0;) {
    if (++idx_[i] < shape_[i]) {
      for (size_t k = 0; k < strides_.size(); ++k) offsets_[k] += strides_[k][i];
      return;
    }
    for (size_t k = 0; k < strides_.size(); ++k) offsets_[k] -= strides_[k][i] * (shape_[i] - 1);
    idx_[i] = 0;
  }
  done_ = true;
}

}  // namespace jit::ir
