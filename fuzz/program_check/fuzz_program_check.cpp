// The ELF and "#!" readers `vigil run` uses on the program it starts (src/cli/program_check.hpp),
// on arbitrary files. Whatever the bytes, nothing crashes or reads out of bounds, no read asks
// for more than its bounds (4,096 section headers of 64 bytes; 64 KiB of anything else), and the
// facts agree with the bytes: no ELF fact without the magic, no env program without "#!".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cli/program_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  std::size_t reads = 0;
  vigil::cli::ReadAt read = [&](std::uint64_t at, std::size_t n) {
    ++reads;
    if (n > 4096 * 64) std::abort();
    return at >= file.size() ? std::string() : file.substr(static_cast<std::size_t>(at), n);
  };
  vigil::cli::ElfFacts facts = vigil::cli::read_elf(read);
  if (facts.elf && (size < 52 || file.compare(0, 4, "\x7f" "ELF") != 0)) std::abort();
  if (!facts.elf && (facts.interpreter || facts.go || facts.shared_object)) std::abort();
  if (facts.interpreter && facts.shared_object) std::abort();
  if (reads > 21) std::abort();  // the header, 16 PT_NOTEs, one PT_DYNAMIC, the tables
  vigil::cli::Shebang s = vigil::cli::read_shebang(file);
  if (s.present && file.compare(0, 2, "#!") != 0) std::abort();
  if (!s.present && !s.program.empty()) std::abort();
  return 0;
}
