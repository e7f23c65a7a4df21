// The engine's counters (EngineStats), relaxed atomics: they are statistics, not guards.
#ifndef VIGIL_CORE_ENGINE_COUNTERS_HPP_
#define VIGIL_CORE_ENGINE_COUNTERS_HPP_

#include <atomic>
#include <cstdint>

#include "vigil/engine.hpp"

namespace vigil {

struct Engine::Counters {
  std::atomic<std::uint64_t> requests{0}, sinks{0}, findings{0}, detections{0},
      budget_overruns{0}, fail_opens{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace vigil

#endif  // VIGIL_CORE_ENGINE_COUNTERS_HPP_
