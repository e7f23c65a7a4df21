#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the path detector lands: convicts nothing.
void detect_path(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
