// MyWire (src/agent/my_wire.hpp), the MySQL stream follower, on arbitrary client streams fed
// in pieces (fuzz/wire_harness.hpp says how and what must hold).
#include "../wire_harness.hpp"

#include "agent/my_wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return vigil::fuzz::wire_one_input<vigil::agent::MyWire>(data, size);
}
