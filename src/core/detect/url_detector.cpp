#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the url detector lands: convicts nothing.
void detect_url(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
