#include "core/detect/detector.hpp"

namespace vigil::detect {

// Placeholder until the sql detector lands: convicts nothing.
void detect_sql(const SinkCheck& check, std::vector<Detection>* out) {}

}  // namespace vigil::detect
