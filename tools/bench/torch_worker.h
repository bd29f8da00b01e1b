// tools/bench/torch_worker.h: torch_bench.py --serve as a child process, whose torch forms of
// each case (functorch and the manual batching) vmapjit-bench times in turns with its own
// implementations (see measure_in_turns): a drift in the machine's speed then shows in all of
// them alike, not in the functorch ratio, which two runs minutes apart would carry.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace bench {

class TorchWorker {
 public:
  // Runs `command` (a shell command line: torch_bench.py --serve with its environment).
  explicit TorchWorker(const std::string& command);
  ~TorchWorker();
  TorchWorker(const TorchWorker&) = delete;
  TorchWorker& operator=(const TorchWorker&) = delete;

  bool alive() const { return out_ != nullptr; }
  // Prepares a case (checks functorch against the manual form and warms both up). Returns
  // "ok", "none" (the worker has no such case) or the failure.
  std::string start_case(const std::string& name, int64_t batch, int threads);
  // One turn of `impl` (functorch or torch_manual): `settle` seconds of untimed calls, then
  // samples for about `seconds`, appended to `samples` (ns per call); returns calls per sample,
  // or 0 when the worker is gone.
  int64_t turn(const std::string& impl, double settle, double seconds, std::vector<double>& samples);

 private:
  std::string request(const std::string& line);
  void stop();
  pid_t pid_ = -1;
  FILE* in_ = nullptr;   // the worker's stdin
  FILE* out_ = nullptr;  // the worker's stdout
};

}  // namespace bench
