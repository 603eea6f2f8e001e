// Runs the real lmscope-cli (LMSCOPE_CLI, defined for the command-line test target) and captures its output.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace lmscope::test {

struct CliResult {
  int code = -1;     // exit code; -1 when a signal ended it
  std::string out;   // stdout and stderr together
  double seconds = 0;
};

// `prefix` is shell text run before the command in the same shell (ulimit ...); `wrapper` a command that runs
// lmscope-cli for us (setpriv ..., sh -c '... >/dev/full').
inline CliResult run_cli_with(const std::string& prefix, const std::string& args, const std::string& wrapper = "") {
  const std::string cmd = prefix + "exec " + wrapper + std::string(LMSCOPE_CLI) + " " + args + " 2>&1";
  CliResult r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CliResult run_cli(const std::string& args) { return run_cli_with("", args); }

// Under a 4 GiB address-space limit, so a command that tried to allocate gigabytes fails at once (and the test
// with it) instead of swapping. Sanitizer builds reserve terabytes of address space for their shadow memory and run
// without the limit.
inline CliResult run_cli_bounded(const std::string& args) {
#ifdef LMSCOPE_SANITIZED
  return run_cli_with("", args);
#else
  return run_cli_with("ulimit -v 4194304; ", args);
#endif
}

// Starts lmscope-cli with args in the background, stdout and stderr to `log`; returns its pid. `env` entries
// ("NAME=value") are added to this process's environment, replacing a variable of the same name.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& log,
                       const std::vector<std::string>& env = {}) {
  std::vector<std::string> all{LMSCOPE_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = env;
  for (char** e = environ; *e; ++e) {
    const std::string var(*e);
    bool replaced = false;
    for (const auto& mine : env) replaced = replaced || var.rfind(mine.substr(0, mine.find('=') + 1), 0) == 0;
    if (!replaced) env_s.push_back(var);
  }
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  posix_spawn(&pid, LMSCOPE_CLI, &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

}  // namespace lmscope::test
