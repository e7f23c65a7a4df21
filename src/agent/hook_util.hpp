// Shared pieces of the hook wrappers.
#ifndef VIGIL_AGENT_HOOK_UTIL_HPP_
#define VIGIL_AGENT_HOOK_UTIL_HPP_

#include <errno.h>

#include <string>
#include <string_view>
#include <vector>

#include "agent/agent.hpp"

namespace vigil::agent {

// The agent to consult for this call, or null when the call must pass straight through
// (no agent, or agent code already running on this thread).
inline Agent* active() noexcept {
  if (Guard::nested()) return nullptr;
  return Agent::get();
}

// Preserves errno across agent work, so that the program sees the real call's errno.
class ErrnoSaver {
 public:
  ErrnoSaver() noexcept : saved_(errno) {}
  ~ErrnoSaver() { errno = saved_; }
  void set(int e) noexcept { saved_ = e; }

 private:
  int saved_;
};

// A NUL-terminated C string as a view (empty for null).
inline std::string_view cstr(const char* s) noexcept { return s ? std::string_view(s) : std::string_view(); }

// argv as views (bounded: a hostile argv cannot make the agent copy without end).
inline std::vector<std::string_view> argv_views(char* const argv[]) {
  std::vector<std::string_view> out;
  for (int i = 0; argv && argv[i] && i < 4096; ++i) out.emplace_back(argv[i]);
  return out;
}

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_HOOK_UTIL_HPP_
