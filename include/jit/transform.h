// jit/transform.h: the machinery shared by jit::vmap and the autodiff transforms. A transformed
// function is a thin template that turns the call's arguments into a list of tensors plus a key
// of the other arguments, and forwards to a compiled, type-erased TransformState.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "jit/tensor.h"

namespace jit {

// `jit::none`: an argument that is not mapped, or an output returned without a batch dim.
struct None {};
inline constexpr None none{};

// One dim or none.
class Dim {
 public:
  Dim(int d) : d_(d) {}
  Dim(long d) : d_(d) {}
  Dim(long long d) : d_(static_cast<int64_t>(d)) {}
  Dim(None) {}
  std::optional<int64_t> value() const { return d_; }

 private:
  std::optional<int64_t> d_;
};

// in_dims / out_dims: one Dim for every argument (output), or one per argument (output).
class DimSpec {
 public:
  DimSpec(int d) : all_(Dim(d)) {}
  DimSpec(None) : all_(Dim(none)) {}
  DimSpec(std::initializer_list<Dim> dims) : each_(dims) {}
  DimSpec(std::vector<Dim> dims) : each_(std::move(dims)) {}
  bool is_uniform() const { return all_.has_value(); }
  std::optional<int64_t> uniform() const { return all_->value(); }
  const std::vector<Dim>& each() const { return each_; }

 private:
  std::optional<Dim> all_;
  std::vector<Dim> each_;
};

namespace detail {

// A non-owning reference to a callable, called only on a cache miss.
template <class Sig>
class FunctionRef;
template <class R, class... A>
class FunctionRef<R(A...)> {
 public:
  template <class F>
  FunctionRef(F&& f) : obj_(const_cast<void*>(static_cast<const void*>(&f))),
                       call_([](void* o, A... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...); }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

// The body of a traced function: symbolic tensor arguments in, output tensors out.
using TraceBody = FunctionRef<std::vector<Tensor>(std::span<const Tensor>)>;

// An output buffer given to `.into`, by reference: a call copies no Tensor (a copy would take
// and drop a reference, two atomic operations on every call).
class OutputRef {
 public:
  OutputRef() = default;
  OutputRef(const Tensor& t) : t_(&t) {}
  const Tensor& operator*() const { return *t_; }
  const Tensor* operator->() const { return t_; }

 private:
  const Tensor* t_ = nullptr;
};

// One call's arguments: the tensors (the caller's, borrowed: a call copies no Tensor), which
// positions are tensors, and a key of the others.
struct CallArgs {
  std::span<const Tensor* const> tensors;
  std::span<const uint8_t> is_tensor;  // per argument position
  std::span<const int64_t> statics;    // non-tensor arguments, encoded
};

class TransformState {
 public:
  virtual ~TransformState() = default;
  virtual std::vector<Tensor> call(const CallArgs& args, TraceBody body) = 0;
  // The same, writing the results into caller-owned buffers; returns nothing (a hot loop of
  // `.into` calls allocates nothing, not even the list of results).
  virtual std::vector<Tensor> call_into(const CallArgs& args, TraceBody body,
                                        std::span<const OutputRef> outputs);
};

template <class T>
inline constexpr bool is_tensor_v = std::is_same_v<std::decay_t<T>, Tensor>;

// Non-tensor arguments are baked into the trace, so their values are part of the cache key.
template <class T>
void encode_static(int64_t*& out, const T& v) {
  static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>,
                "a transformed function's non-tensor arguments must be numbers, bools or enums");
  if constexpr (std::is_floating_point_v<T>) {
    double d = static_cast<double>(v);
    int64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    *out++ = 1;
    *out++ = bits;
  } else {
    *out++ = 2;
    *out++ = static_cast<int64_t>(v);
  }
}

// Output flattening: a Tensor, a tuple or pair of Tensors, or a vector of them.
[[noreturn]] void throw_non_tensor_output(size_t index, const char* type);

template <class T>
void flatten_one(std::vector<Tensor>& out, T&& v) {
  if constexpr (is_tensor_v<T>)
    out.push_back(std::forward<T>(v));
  else
    throw_non_tensor_output(out.size(), typeid(T).name());
}

template <class R>
std::vector<Tensor> flatten(R&& r) {
  using D = std::decay_t<R>;
  std::vector<Tensor> out;
  if constexpr (std::is_same_v<D, std::vector<Tensor>>) {
    out = std::forward<R>(r);
  } else if constexpr (requires { std::tuple_size<D>::value; }) {
    std::apply([&](auto&&... xs) { (flatten_one(out, xs), ...); }, r);
  } else {
    flatten_one(out, std::forward<R>(r));
  }
  return out;
}

template <class R>
R unflatten(std::vector<Tensor>&& v) {
  if constexpr (std::is_same_v<R, Tensor>) {
    return std::move(v.at(0));
  } else if constexpr (std::is_same_v<R, std::vector<Tensor>>) {
    return std::move(v);
  } else if constexpr (requires { std::tuple_size<R>::value; }) {
    return [&]<size_t... I>(std::index_sequence<I...>) {
      return R{std::move(v.at(I))...};
    }(std::make_index_sequence<std::tuple_size_v<R>>{});
  } else {
    return R{};  // a non-tensor output; the call has already thrown
  }
}

// Calls f with the traced tensors in place of the tensor arguments.
template <class F, class... A, size_t... I>
decltype(auto) call_traced(const F& f, std::span<const Tensor> sym, std::index_sequence<I...>,
                           const A&... args) {
  constexpr std::array<bool, sizeof...(A)> tensor{is_tensor_v<A>...};
  constexpr auto pos = [&] {
    std::array<size_t, sizeof...(A) + 1> p{};
    for (size_t i = 0; i < sizeof...(A); ++i) p[i + 1] = p[i] + tensor[i];
    return p;
  }();
  auto pick = [&]<size_t K>(const auto& a) -> decltype(auto) {
    if constexpr (is_tensor_v<decltype(a)>)
      return static_cast<const Tensor&>(sym[pos[K]]);
    else
      return a;
  };
  return f(pick.template operator()<I>(args)...);
}

}  // namespace detail

// A function transformed by vmap, grad, ...: call it like the original. Its result has f's
// result type unless the transform says otherwise (`Result`).
template <class F, class Result = void>
class Transformed {
 public:
  Transformed(F f, std::shared_ptr<detail::TransformState> state)
      : f_(std::move(f)), state_(std::move(state)) {}

  template <class... A>
  auto operator()(const A&... args) const {
    using R = std::conditional_t<std::is_void_v<Result>,
                                 std::decay_t<std::invoke_result_t<const F&, const A&...>>, Result>;
    return detail::unflatten<R>(invoke({}, false, args...));
  }

  // Writes the results into caller-owned buffers of the right shapes and dtypes (contiguous or
  // strided, not overlapping the inputs): a hot loop that allocates nothing.
  template <class... A>
  void into(std::initializer_list<detail::OutputRef> outputs, const A&... args) const {
    invoke(std::span<const detail::OutputRef>(outputs.begin(), outputs.size()), true, args...);
  }
  template <class... A>
  void into(const std::vector<Tensor>& outputs, const A&... args) const {
    constexpr size_t kOnStack = 8;
    if (outputs.size() <= kOnStack) {
      std::array<detail::OutputRef, kOnStack> refs;
      std::copy(outputs.begin(), outputs.end(), refs.begin());
      invoke(std::span<const detail::OutputRef>(refs.data(), outputs.size()), true, args...);
    } else {
      invoke(std::vector<detail::OutputRef>(outputs.begin(), outputs.end()), true, args...);
    }
  }

  const std::shared_ptr<detail::TransformState>& state() const { return state_; }

 private:
  template <class... A>
  std::vector<Tensor> invoke(std::span<const detail::OutputRef> outputs, bool into, const A&... args) const {
    constexpr size_t n = sizeof...(A), nt = (size_t(detail::is_tensor_v<A>) + ... + 0);
    std::array<const Tensor*, nt> tensors;
    std::array<uint8_t, n + 1> is_tensor{uint8_t(detail::is_tensor_v<A>)...};
    std::array<int64_t, 2 * (n - nt) + 1> statics{};
    size_t k = 0;
    int64_t* s = statics.data();
    auto collect = [&](const auto& a) {
      if constexpr (detail::is_tensor_v<decltype(a)>)
        tensors[k++] = &a;
      else
        detail::encode_static(s, a);
    };
    (collect(args), ...);
    auto body = [&](std::span<const Tensor> sym) -> std::vector<Tensor> {
      return detail::flatten(detail::call_traced(f_, sym, std::index_sequence_for<A...>{}, args...));
    };
    detail::CallArgs call{tensors, std::span<const uint8_t>(is_tensor.data(), n),
                          std::span<const int64_t>(statics.data(), 2 * (n - nt))};
    return into ? state_->call_into(call, body, outputs) : state_->call(call, body);
  }

  F f_;
  std::shared_ptr<detail::TransformState> state_;
};

}  // namespace jit
