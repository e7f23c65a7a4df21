#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the shell detector lands: convicts nothing.
void detect_shell(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
