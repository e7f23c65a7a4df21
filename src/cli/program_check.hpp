// What stands between the agent and a program `vigil run` is about to start. The agent enters a
// program through the dynamic linker (LD_PRELOAD), and sees what it does through the C
// library's functions; a program that never runs the dynamic linker, one it refuses to preload
// into, or one that makes its own system calls runs unprotected and says nothing. `vigil run`
// warns about those before it starts them.
#ifndef VIGIL_CLI_PROGRAM_CHECK_HPP_
#define VIGIL_CLI_PROGRAM_CHECK_HPP_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli {

// Reads up to `size` bytes of a file at `offset`: fewer past its end, none on an error.
using ReadAt = std::function<std::string(std::uint64_t offset, std::size_t size)>;

// What an executable's ELF headers say, as far as the agent is concerned. Every offset and
// count in the file is hostile: reads are bounded (program headers of their class's size in at
// most 64 KiB, as the kernel takes them; at most 4,096 section headers; 64 KiB of notes, of the
// dynamic section or of section names), and a header that points outside the file only leaves
// the fact it would have given unknown.
struct ElfFacts {
  bool elf = false;                // starts with the ELF magic and has a whole header
  int elf_class = 0;               // 1: 32-bit, 2: 64-bit
  std::uint16_t machine = 0;       // e_machine (EM_X86_64 is 62)
  bool interpreter = false;        // has a PT_INTERP: the dynamic linker starts it
  bool shared_object = false;      // no PT_INTERP but a DT_SONAME: a library run directly
  bool go = false;                 // a Go build note, or a .go.buildinfo/.gopclntab section
};
ElfFacts read_elf(const ReadAt& read);

// A script's "#!" line (the kernel reads at most its first 256 bytes): the interpreter and
// the program it names when it is env ("#!/usr/bin/env -S node --flag" names node).
// present is false when `head` does not start with "#!".
struct Shebang {
  bool present = false;
  std::string interpreter;  // as written: a path
  std::string program;      // env's program, else empty
};
Shebang read_shebang(std::string_view head);

// The warnings for `command` as execvp would start it (a name without '/' is looked up in
// PATH; a script is followed to its interpreter, four levels deep as the kernel does). `agent`
// is the preload library, whose ELF class and machine the program must share. Empty when
// nothing is in the way, and when the program cannot be found or read (execvp then says why).
std::vector<std::string> program_blindspots(const std::string& command, const std::string& agent);

}  // namespace vigil::cli

#endif  // VIGIL_CLI_PROGRAM_CHECK_HPP_
