#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the redirect detector lands: convicts nothing.
void detect_redirect(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
