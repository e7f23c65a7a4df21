// Keeps the agent's hooks in front of libraries that bypass LD_PRELOAD (loaded with
// RTLD_DEEPBIND, as PHP loads its extensions): see interpose.cpp.
#ifndef VIGIL_AGENT_INTERPOSE_HPP_
#define VIGIL_AGENT_INTERPOSE_HPP_

#include <cstdint>

namespace vigil::agent {

// Points the GOT slots of the hooked functions in every loaded object (but the C library, the
// loader and the agent) at the hooks. Cheap when no object was loaded since the last call (one
// dl_iterate_phdr step); a scan runs once a second at most; safe to call from any thread (one
// does the work). Returns how many slots could not be (mprotect refused): fail-opens.
std::uint64_t interpose_loaded_objects() noexcept;

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_INTERPOSE_HPP_
