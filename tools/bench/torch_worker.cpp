// tools/bench/torch_worker.cpp: the torch worker's process and its line protocol.
#include "torch_worker.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

extern char** environ;

namespace bench {

TorchWorker::TorchWorker(const std::string& command) {
  // A worker that died leaves a closed pipe: the write then fails instead of killing us.
  signal(SIGPIPE, SIG_IGN);
  int to[2], from[2];
  if (pipe(to) != 0) return;
  if (pipe(from) != 0) {
    close(to[0]), close(to[1]);
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, to[0], 0);
  posix_spawn_file_actions_adddup2(&fa, from[1], 1);
  for (int fd : {to[0], to[1], from[0], from[1]}) posix_spawn_file_actions_addclose(&fa, fd);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  int rc = posix_spawn(&pid_, "/bin/sh", &fa, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(to[0]), close(from[1]);
  if (rc != 0) {
    close(to[1]), close(from[0]);
    pid_ = -1;
    return;
  }
  in_ = fdopen(to[1], "w");
  out_ = fdopen(from[0], "r");
}

TorchWorker::~TorchWorker() {
  if (in_) {
    std::fputs("quit\n", in_);
    std::fflush(in_);
  }
  stop();
}

void TorchWorker::stop() {
  if (in_) std::fclose(in_);
  if (out_) std::fclose(out_);
  in_ = out_ = nullptr;
  if (pid_ > 0) {
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string TorchWorker::request(const std::string& line) {
  if (!alive()) return "";
  std::fputs(line.c_str(), in_);
  std::fputc('\n', in_);
  std::fflush(in_);
  std::string reply;
  for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) reply += char(c);
  if (reply.empty()) {
    std::fprintf(stderr, "  torch worker: no reply to \"%s\"; it is gone\n", line.c_str());
    if (pid_ > 0) kill(pid_, SIGTERM);
    stop();
  }
  return reply;
}

std::string TorchWorker::start_case(const std::string& name, int64_t batch, int threads) {
  std::string r = request("case " + name + " " + std::to_string(batch) + " " + std::to_string(threads));
  return r.empty() ? "fail the worker is gone" : r;
}

int64_t TorchWorker::turn(const std::string& impl, double settle, double seconds, std::vector<double>& samples) {
  std::ostringstream line;
  line << "turn " << impl << " " << settle << " " << seconds;
  std::istringstream r(request(line.str()));
  int64_t k = 0;
  r >> k;
  for (double x; r >> x;) samples.push_back(x);
  return k;
}

}  // namespace bench
