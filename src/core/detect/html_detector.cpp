#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the html detector lands: convicts nothing.
void detect_html(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
