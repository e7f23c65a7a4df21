#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the header detector lands: convicts nothing.
void detect_header(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
