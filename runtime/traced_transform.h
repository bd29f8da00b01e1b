// runtime/traced_transform.h: what every compiled transform (vmap, compile, grad, ...)
// shares: tracing the user's function on symbolic tensors, a per-signature cache of compiled
// executables with a cache-hit fast path, output allocation, and tracing inline when called
// inside another traced function. A transform says which arguments are mapped (resolve) and
// what to compile from the traced function (prepare).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ir/ir.h"
#include "jit/vmap.h"
#include "runtime/executable.h"
#include "transforms/vmap.h"

namespace jit::rt {

// A call's arguments, checked: the normalised in_dim of each tensor argument (-1: not mapped)
// and the batch size (0 when nothing is mapped).
struct Resolved {
  std::vector<int64_t> in_dims;
  int64_t batch = 0;
};

// The function to compile and how to batch it. Its parameters are the tensor arguments, the
// traced function's captured tensors, then `extra` (tensors the transform captures itself).
struct Prepared {
  ir::Function f;
  ir::VmapSpec spec;
  std::vector<Tensor> extra;
  // Batching needs the per-sample fallback, hence a static batch size: prepare again with it.
  bool needs_static_batch = false;
};

class TracedTransform : public detail::TransformState {
 public:
  TracedTransform(std::string context, VmapOptions options);
  ~TracedTransform() override;

  std::vector<Tensor> call(const detail::CallArgs& args, detail::TraceBody body) override;
  std::vector<Tensor> call_into(const detail::CallArgs& args, detail::TraceBody body,
                                std::span<const detail::OutputRef> outputs) override;
  CacheStats stats() const;

 protected:
  // The mapped arguments and the batch size; by default nothing is mapped.
  virtual Resolved resolve(const detail::CallArgs& args) const;
  // From the traced function (its parameters: the tensor arguments, then the captured tensors).
  // `batch` is kDyn when compiling, the static batch size when tracing inline.
  virtual Prepared prepare(ir::Function traced, const detail::CallArgs& args, const Resolved& r,
                           int64_t batch) const = 0;
  // A spec that maps nothing and returns every output as it is.
  ir::VmapSpec unmapped_spec(const ir::Function& f) const;

  const std::string& context() const { return context_; }
  const VmapOptions& options() const { return opts_; }
  std::atomic<int64_t>* fallback_counter() const { return &fallbacks_; }

 private:
  struct Entry;
  struct Slot;
  struct KeyHash {
    size_t operator()(const std::vector<int64_t>& k) const;
  };
  struct Traced {
    ir::Function f;
    std::vector<Tensor> captures;
  };

  std::vector<Tensor> dispatch(const detail::CallArgs& args, detail::TraceBody body,
                               std::span<const detail::OutputRef> outputs);
  Traced trace(const detail::CallArgs& args, const Resolved& r, detail::TraceBody body) const;
  std::vector<Tensor> call_inline(const detail::CallArgs& args, const Resolved& r,
                                  detail::TraceBody body) const;
  Entry* lookup(std::vector<int64_t> key, const detail::CallArgs& args, const Resolved& r,
                detail::TraceBody body, std::span<const detail::OutputRef> outputs, bool per_batch);
  bool run(const Entry& e, const detail::CallArgs& args, std::span<const detail::OutputRef> given,
           std::vector<Tensor>& results, bool report) const;

  std::string context_;
  VmapOptions opts_;
  mutable std::mutex mu_;
  std::unordered_map<std::vector<int64_t>, std::shared_ptr<Slot>, KeyHash> cache_;
  int64_t compiles_ = 0;
  std::atomic<int64_t> hits_{0};
  std::atomic<Entry*> last_{nullptr};  // entries live as long as the transform
  // Signatures whose batching needs the per-sample fallback: compiled per batch size.
  std::unordered_map<std::vector<int64_t>, bool, KeyHash> per_batch_;
  mutable std::atomic<int64_t> fallbacks_{0};
};

}  // namespace jit::rt
