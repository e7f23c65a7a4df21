#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {

// Placeholder until the tokenizer-based detector lands: convicts nothing.
bool detect_rfi(const Candidate& c, Hit* hit) { return false; }

}  // namespace vigil::detect::input
