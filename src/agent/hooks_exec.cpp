// Commands: shell strings (system, popen) and argument vectors (the exec family,
// posix_spawn). A blocked call fails the way the call fails normally: -1/EACCES for exec*,
// -1 for system, NULL/EACCES for popen, EACCES returned by posix_spawn. And the process's end
// through _exit/_Exit, which skips the agent's exit handler.
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/handoff.hpp"
#include "agent/hook_util.hpp"
#include "agent/real.hpp"

using vigil::agent::active;
using vigil::agent::Agent;
using vigil::agent::argv_views;
using vigil::agent::cstr;
using vigil::agent::ErrnoSaver;
using vigil::agent::Guard;
namespace real = vigil::agent::real;

namespace {

bool blocks_shell(const char* command, const char* function) {
  Agent* a = active();
  if (!a || !command || !a->has_requests_in_flight()) return false;
  Guard g;
  ErrnoSaver saver;
  return a->check_sink(vigil::Sink::of(vigil::SinkType::kShell, command), function).block;
}

// The program actually run is `path`; argv[0] is only its name for itself.
bool blocks_exec(const char* path, char* const argv[], const char* function) {
  vigil::agent::adopt_handed_requests();  // a launcher's exec: its parent's requests
  Agent* a = active();
  if (!a || !a->has_requests_in_flight()) return false;
  Guard g;
  ErrnoSaver saver;
  try {
    std::vector<std::string_view> args = argv_views(argv);
    if (args.empty()) args.emplace_back(cstr(path));
    else if (path) args[0] = path;
    bool block = a->check_sink(vigil::Sink::exec(args), function).block;
    if (!block) vigil::agent::launcher_allowed();  // a launcher's parent need not wait
    return block;
  } catch (...) {
    return false;
  }
}

// posix_spawn(p) of a launcher (handoff.hpp): the requests in flight go with it, in a memfd
// that only this child inherits (a dup2 onto itself clears its close-on-exec flag there) and
// that the environment names; its first bytes, mapped here, bring the launcher's answer. A
// launcher started with file actions of the program's own (the JVM passes none), or when the
// handoff cannot be made, is started as it would be without it.
template <typename Spawn>
int spawn_launcher(Spawn spawn, pid_t* pid, const char* path, const posix_spawnattr_t* attr,
                   char* const argv[], char* const envp[]) {
  Agent* a = active();
  if (!a || !a->has_requests_in_flight()) return spawn(pid, path, nullptr, attr, argv, envp);
  int fd = -1;
  vigil::agent::LauncherReply* reply = nullptr;
  posix_spawn_file_actions_t actions;
  bool have_actions = false;
  std::vector<char*> env;
  std::string variable;
  {
    Guard g;
    ErrnoSaver saver;
    try {
      std::string bytes = a->handoff();
      if (!bytes.empty()) {
        fd = memfd_create("vigil-handoff", MFD_CLOEXEC);
        bytes.insert(0, vigil::agent::kReplyBytes, '\0');  // the launcher's answer goes there
      }
      std::size_t done = 0;
      while (fd >= 0 && done < bytes.size()) {
        ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
          close(fd);
          fd = -1;
        } else {
          done += static_cast<std::size_t>(n);
        }
      }
      if (fd >= 0) {
        void* area = mmap(nullptr, vigil::agent::kReplyBytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                          fd, 0);
        reply = area == MAP_FAILED ? nullptr : static_cast<vigil::agent::LauncherReply*>(area);
      }
      if (fd >= 0 && posix_spawn_file_actions_init(&actions) == 0) {
        have_actions = true;
        variable = std::string(vigil::agent::kHandoffVariable) + "=" + std::to_string(fd);
        const std::string_view prefix =
            std::string_view(variable).substr(0, variable.find('=') + 1);
        for (std::size_t i = 0; envp != nullptr && envp[i] != nullptr; ++i)
          if (std::string_view(envp[i]).substr(0, prefix.size()) != prefix) env.push_back(envp[i]);
        env.push_back(variable.data());
        env.push_back(nullptr);
        if (posix_spawn_file_actions_adddup2(&actions, fd, fd) != 0) env.clear();
      }
    } catch (...) {
      env.clear();
    }
  }
  int rc = env.empty() ? spawn(pid, path, nullptr, attr, argv, envp)
                       : spawn(pid, path, &actions, attr, argv, env.data());
  Guard g;
  ErrnoSaver saver;
  if (have_actions) posix_spawn_file_actions_destroy(&actions);
  if (fd >= 0) close(fd);
  if (reply != nullptr) {
    if (rc == 0 && !env.empty()) vigil::agent::await_launcher(reply);
    else munmap(reply, vigil::agent::kReplyBytes);
  }
  return rc;
}

// Collects the variadic argv of execl/execlp/execle (and envp for execle).
std::vector<char*> collect(const char* arg0, va_list ap, char*** envp) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(arg0));
  while (arg0 != nullptr) {
    char* next = va_arg(ap, char*);
    argv.push_back(next);
    if (next == nullptr) break;
  }
  if (envp) *envp = va_arg(ap, char**);
  return argv;
}

// Before _exit: the events this process queued (a fork-per-connection child that served its
// request and leaves at once) are written, and handed to vigild or its spool, within a bound.
// Not in a vfork() child, which runs on its parent's memory.
void before_quick_exit() noexcept {
  Agent* a = active();
  if (!a || !a->own_process()) return;
  Guard g;
  ErrnoSaver saver;
  a->flush_events(500);
  a->stop_server(1000);
}

}  // namespace

extern "C" {

void _exit(int status) {
  before_quick_exit();
  if (auto real_exit = real::_exit_ptr()) real_exit(status);
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void _Exit(int status) {
  before_quick_exit();
  if (auto real_exit = real::_Exit_ptr()) real_exit(status);
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

int system(const char* command) {
  if (blocks_shell(command, "system")) {
    errno = EACCES;
    return -1;
  }
  return real::system_ptr()(command);
}

FILE* popen(const char* command, const char* type) {
  if (blocks_shell(command, "popen")) {
    errno = EACCES;
    return nullptr;
  }
  return real::popen_ptr()(command, type);
}

int execve(const char* path, char* const argv[], char* const envp[]) {
  if (blocks_exec(path, argv, "execve")) {
    errno = EACCES;
    return -1;
  }
  return real::execve_ptr()(path, argv, envp);
}

int execv(const char* path, char* const argv[]) {
  if (blocks_exec(path, argv, "execv")) {
    errno = EACCES;
    return -1;
  }
  return real::execv_ptr()(path, argv);
}

int execvp(const char* file, char* const argv[]) {
  if (blocks_exec(file, argv, "execvp")) {
    errno = EACCES;
    return -1;
  }
  return real::execvp_ptr()(file, argv);
}

int execvpe(const char* file, char* const argv[], char* const envp[]) {
  if (blocks_exec(file, argv, "execvpe")) {
    errno = EACCES;
    return -1;
  }
  return real::execvpe_ptr()(file, argv, envp);
}

int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect(arg, ap, nullptr);
  va_end(ap);
  if (blocks_exec(path, argv.data(), "execl")) {
    errno = EACCES;
    return -1;
  }
  return real::execv_ptr()(path, argv.data());
}

int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect(arg, ap, nullptr);
  va_end(ap);
  if (blocks_exec(file, argv.data(), "execlp")) {
    errno = EACCES;
    return -1;
  }
  return real::execvp_ptr()(file, argv.data());
}

int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  char** envp = nullptr;
  std::vector<char*> argv = collect(arg, ap, &envp);
  va_end(ap);
  if (blocks_exec(path, argv.data(), "execle")) {
    errno = EACCES;
    return -1;
  }
  return real::execve_ptr()(path, argv.data(), envp);
}

int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  if (blocks_exec(path, argv, "posix_spawn")) return EACCES;
  if (fa == nullptr && vigil::agent::is_launcher(path)) [[unlikely]]
    return spawn_launcher(real::posix_spawn_ptr(), pid, path, attr, argv, envp);
  return real::posix_spawn_ptr()(pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                 const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  if (blocks_exec(file, argv, "posix_spawnp")) return EACCES;
  if (fa == nullptr && vigil::agent::is_launcher(file)) [[unlikely]]
    return spawn_launcher(real::posix_spawnp_ptr(), pid, file, attr, argv, envp);
  return real::posix_spawnp_ptr()(pid, file, fa, attr, argv, envp);
}

}  // extern "C"
