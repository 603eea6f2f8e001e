// `lmscope-cli worker` as a front end drives it: requests in on a pipe, JSON lines out on another.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

extern char** environ;

namespace lmscope::test {

class WorkerProcess {
 public:
  WorkerProcess() {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char* argv[] = {const_cast<char*>(LMSCOPE_CLI), const_cast<char*>("worker"), nullptr};
    posix_spawn(&pid_, LMSCOPE_CLI, &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~WorkerProcess() {
    if (to_) fclose(to_);
    if (from_) fclose(from_);
    if (pid_ > 0) {
      int st;
      waitpid(pid_, &st, 0);
    }
  }
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  void send(const nlohmann::json& j) { send_line(j.dump()); }
  // A raw line, for requests that are not (or not quite) JSON.
  void send_line(const std::string& line) {
    fputs((line + "\n").c_str(), to_);
    fflush(to_);
  }
  // The next line as JSON (null at end of stream).
  nlohmann::json next() {
    std::string line;
    int c;
    while ((c = fgetc(from_)) != EOF && c != '\n') line += static_cast<char>(c);
    if (line.empty() && c == EOF) return nullptr;
    return nlohmann::json::parse(line);
  }
  // Lines until one with this event (returned); the others go to `seen`.
  nlohmann::json until(const std::string& event, std::vector<nlohmann::json>* seen = nullptr) {
    for (nlohmann::json e = next(); !e.is_null(); e = next()) {
      if (e["event"] == event) return e;
      if (seen) seen->push_back(e);
    }
    return nullptr;
  }
  // The front end stops reading: the worker's next write finds its stdout closed.
  void close_output() {
    fclose(from_);
    from_ = nullptr;
  }
  // Closes stdin and waits; the exit code, or -(signal) when a signal ended the worker.
  int close_and_wait() {
    fclose(to_);
    to_ = nullptr;
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : -1000;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

}  // namespace lmscope::test
