#include "agent/agent.hpp"

namespace vigil::agent {

// Initial-exec TLS: the preload library is loaded at start-up, so its TLS is static and a
// hook's guard check costs one thread-pointer-relative load (no __tls_get_addr call).
constinit thread_local int t_depth __attribute__((tls_model("initial-exec"))) = 0;

}  // namespace vigil::agent
