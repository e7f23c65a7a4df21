#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the exec detector lands: convicts nothing.
void detect_exec(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
