#include "cli/program_check.hpp"

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace vigil::cli {
namespace {

// A minimal ELF image: a header, program headers (type and contents), and section headers
// named in a string table. Little- or big-endian, 32- or 64-bit.
struct Segment {
  std::uint32_t type;
  std::string bytes;
};
class ElfImage {
 public:
  ElfImage(int elf_class, bool big) : wide_(elf_class == 2), big_(big) {}
  std::string build(std::uint16_t machine, const std::vector<Segment>& segments,
                    const std::vector<std::string>& sections) const {
    std::size_t header = wide_ ? 64 : 52, ph = wide_ ? 56 : 32, sh = wide_ ? 64 : 40;
    std::string out(header, '\0');
    out.replace(0, 4, "\x7f" "ELF");
    out[4] = wide_ ? 2 : 1;
    out[5] = big_ ? 2 : 1;
    out[6] = 1;
    put(out, 16, 2, 2);  // ET_EXEC
    put(out, 18, 2, machine);
    std::size_t phoff = out.size();
    out.resize(phoff + ph * segments.size());
    for (std::size_t i = 0; i < segments.size(); ++i) {
      std::size_t at = phoff + i * ph;
      std::size_t data = out.size();
      out += segments[i].bytes;
      put(out, at, 4, segments[i].type);
      put(out, at + (wide_ ? 8 : 4), wide_ ? 8 : 4, data);
      put(out, at + (wide_ ? 32 : 16), wide_ ? 8 : 4, segments[i].bytes.size());
    }
    std::string names(1, '\0');
    std::vector<std::size_t> name_at;
    for (const auto& n : sections) {
      name_at.push_back(names.size());
      names += n + '\0';
    }
    std::size_t names_offset = out.size();
    out += names;
    std::size_t shoff = out.size();
    // Section 0 is empty; then the named ones; the string table last.
    std::size_t count = sections.size() + 2;
    out.resize(shoff + sh * count);
    for (std::size_t i = 0; i < sections.size(); ++i) put(out, shoff + (i + 1) * sh, 4, name_at[i]);
    std::size_t strtab = shoff + (count - 1) * sh;
    put(out, strtab + (wide_ ? 24 : 16), wide_ ? 8 : 4, names_offset);
    put(out, strtab + (wide_ ? 32 : 20), wide_ ? 8 : 4, names.size());
    put(out, wide_ ? 32 : 28, wide_ ? 8 : 4, phoff);
    put(out, wide_ ? 40 : 32, wide_ ? 8 : 4, shoff);
    put(out, wide_ ? 54 : 42, 2, ph);
    put(out, wide_ ? 56 : 44, 2, segments.size());
    put(out, wide_ ? 58 : 46, 2, sh);
    put(out, wide_ ? 60 : 48, 2, count);
    put(out, wide_ ? 62 : 50, 2, count - 1);
    return out;
  }
  std::string note(std::string_view owner, std::uint32_t type, std::string_view desc) const {
    std::string n(12, '\0');
    put(n, 0, 4, owner.size() + 1);
    put(n, 4, 4, desc.size());
    put(n, 8, 4, type);
    n += std::string(owner) + '\0';
    n.resize((n.size() + 3) & ~std::size_t{3}, '\0');
    n += desc;
    n.resize((n.size() + 3) & ~std::size_t{3}, '\0');
    return n;
  }
  std::string dynamic(std::initializer_list<std::uint64_t> tags) const {
    std::string d;
    std::size_t w = wide_ ? 8 : 4;
    for (std::uint64_t t : tags) {
      std::string entry(2 * w, '\0');
      put(entry, 0, w, t);
      d += entry;
    }
    return d + std::string(2 * w, '\0');
  }

 private:
  void put(std::string& s, std::size_t at, std::size_t width, std::uint64_t v) const {
    for (std::size_t i = 0; i < width; ++i) {
      std::size_t k = big_ ? width - 1 - i : i;
      s[at + k] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
  }
  bool wide_, big_;
};

ReadAt reader(const std::string& file) {
  return [&file](std::uint64_t at, std::size_t n) {
    return at >= file.size() ? std::string() : file.substr(static_cast<std::size_t>(at), n);
  };
}

constexpr std::uint32_t kInterp = 3, kNote = 4, kDynamic = 2;

TEST(ProgramCheck, ElfHeadersSayHowTheProgramStarts) {
  for (int elf_class : {1, 2}) {
    for (bool big : {false, true}) {
      SCOPED_TRACE(testing::Message() << "class " << elf_class << " big " << big);
      ElfImage e(elf_class, big);
      std::string dynamic = e.build(62, {{kInterp, "/lib64/ld-linux-x86-64.so.2"}}, {".text"});
      ElfFacts f = read_elf(reader(dynamic));
      EXPECT_TRUE(f.elf);
      EXPECT_EQ(f.elf_class, elf_class);
      EXPECT_EQ(f.machine, 62);
      EXPECT_TRUE(f.interpreter);
      EXPECT_FALSE(f.go);

      f = read_elf(reader(e.build(3, {}, {".text", ".data"})));
      EXPECT_TRUE(f.elf);
      EXPECT_EQ(f.machine, 3);
      EXPECT_FALSE(f.interpreter);
      EXPECT_FALSE(f.shared_object);

      // A library run directly (as the dynamic linker itself is) names itself; a static
      // position-independent program does not.
      f = read_elf(reader(e.build(62, {{kDynamic, e.dynamic({1, 14})}}, {})));
      EXPECT_TRUE(f.shared_object);
      f = read_elf(reader(e.build(62, {{kDynamic, e.dynamic({0x6ffffffb})}}, {})));
      EXPECT_FALSE(f.shared_object);
    }
  }
}

TEST(ProgramCheck, GoIsKnownByItsBuildNoteOrItsSections) {
  ElfImage e(2, false);
  std::string interp = "/lib64/ld-linux-x86-64.so.2";
  std::string notes = e.note("GNU", 3, "abcd") + e.note("Go", 4, "id/x");
  EXPECT_TRUE(read_elf(reader(e.build(62, {{kInterp, interp}, {kNote, notes}}, {}))).go);
  EXPECT_TRUE(read_elf(reader(e.build(62, {{kInterp, interp}}, {".text", ".go.buildinfo"}))).go);
  EXPECT_TRUE(read_elf(reader(e.build(62, {{kInterp, interp}}, {".gopclntab"}))).go);
  // A GNU build id, or a Go note of another type, is not Go's build note.
  EXPECT_FALSE(read_elf(reader(e.build(62, {{kInterp, interp}, {kNote, e.note("GNU", 3, "id")}},
                                       {".text", ".go"})))
                   .go);
  EXPECT_FALSE(read_elf(reader(e.build(62, {{kNote, e.note("Go", 1, "")}}, {}))).go);
}

TEST(ProgramCheck, HostileHeadersLeaveFactsUnknown) {
  ElfImage e(2, false);
  std::string good = e.build(62, {{kInterp, "/lib/ld.so"}, {kNote, e.note("Go", 4, "x")}},
                             {".gopclntab"});
  // Every truncation of a valid image: no read past the end, no fact made up.
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::string cut = good.substr(0, n);
    ElfFacts f = read_elf(reader(cut));
    if (n < 64) {
      EXPECT_FALSE(f.elf) << n;
    }
  }
  EXPECT_FALSE(read_elf(reader("#!/bin/sh\n")).elf);
  EXPECT_FALSE(read_elf(reader(std::string("\x7f" "ELF\x03", 5) + std::string(80, '\0'))).elf);
  // Counts and offsets pointing anywhere: all 0xff.
  std::string wild = good;
  for (std::size_t at = 24; at < 64; ++at) wild[at] = '\xff';
  ElfFacts f = read_elf(reader(wild));
  EXPECT_TRUE(f.elf);
  EXPECT_FALSE(f.interpreter);
  EXPECT_FALSE(f.go);
  // A note whose sizes run past its segment ends the walk.
  std::string bad_note = e.note("Go", 4, "x");
  bad_note[0] = '\x7f';
  EXPECT_FALSE(read_elf(reader(e.build(62, {{kNote, bad_note}}, {}))).go);
}

TEST(ProgramCheck, RealProgramsAndLibraries) {
  ElfFacts self = read_elf([](std::uint64_t at, std::size_t n) {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    in.seekg(static_cast<std::streamoff>(at));
    std::string out(n, '\0');
    in.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
  });
  EXPECT_TRUE(self.elf);
  EXPECT_TRUE(self.interpreter);
  EXPECT_FALSE(self.shared_object);
  EXPECT_FALSE(self.go);
  // This test is dynamically linked and built like the agent: nothing to say of itself.
  EXPECT_TRUE(program_blindspots("/proc/self/exe", "/proc/self/exe").empty());
  // The dynamic linker runs as a program too (ld.so PROGRAM), yet has no interpreter: it names
  // itself, so it is not taken for a static program.
  std::string linker;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        for (int i = 0; i < info->dlpi_phnum; ++i)
          if (info->dlpi_phdr[i].p_type == PT_INTERP)
            *static_cast<std::string*>(out) =
                reinterpret_cast<const char*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        return 1;  // the first object is the program
      },
      &linker);
  ASSERT_FALSE(linker.empty());
  std::ifstream in(linker, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ElfFacts ld = read_elf(reader(bytes));
  EXPECT_TRUE(ld.elf);
  EXPECT_FALSE(ld.interpreter);
  EXPECT_TRUE(ld.shared_object) << linker;
  EXPECT_TRUE(program_blindspots(linker, "/proc/self/exe").empty());
}

// Scripts in a folder of their own, found through PATH as execvp finds them.
class ProgramCheckFiles : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-program-check-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const char* path = std::getenv("PATH");
    saved_path_ = path != nullptr ? path : "";
    setenv("PATH", (dir_ + ":" + saved_path_).c_str(), 1);
    ElfImage e(2, false);
    write("static-tool", e.build(62, {}, {".text"}));
    write("go-tool", e.build(62, {{kInterp, "/lib64/ld-linux-x86-64.so.2"}}, {".go.buildinfo"}));
    write("arm-tool", e.build(183, {{kInterp, "/lib/ld-linux-aarch64.so.1"}}, {}));
    write("agent.so", e.build(62, {{kDynamic, e.dynamic({14})}}, {}));
  }
  void TearDown() override {
    setenv("PATH", saved_path_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& bytes) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    chmod(p.c_str(), 0755);
  }
  std::string joined(const std::string& command) {
    std::string all;
    for (const auto& w : program_blindspots(command, dir_ + "/agent.so")) all += w + "\n";
    return all;
  }
  std::string dir_, saved_path_;
};

TEST_F(ProgramCheckFiles, WhatTheAgentCannotEnterIsNamed) {
  EXPECT_NE(joined("static-tool").find(dir_ + "/static-tool is statically linked"),
            std::string::npos)
      << joined("static-tool");
  EXPECT_NE(joined("go-tool").find("is a Go program"), std::string::npos);
  EXPECT_NE(joined(dir_ + "/arm-tool").find("is a 64-bit ELF for machine 183 and the agent a "
                                            "64-bit ELF for machine 62"),
            std::string::npos)
      << joined(dir_ + "/arm-tool");
  // The agent's own class and machine are those of the test program here (x86-64 or not), so
  // compare against a program built for the same machine as the agent image above.
  EXPECT_EQ(joined("/proc/self/exe").find("statically"), std::string::npos);
  // Not found, not readable, not ELF: execvp has the last word.
  EXPECT_EQ(joined("no-such-program-here"), "");
  write("text-file", "just words\n");
  EXPECT_EQ(joined("text-file"), "");
}

TEST_F(ProgramCheckFiles, ScriptsAreFollowedToTheirInterpreter) {
  write("run-direct", "#!" + dir_ + "/static-tool --flag\nrest\n");
  write("run-env", "#!/usr/bin/env static-tool\n");
  write("run-env-s", "#! /usr/bin/env -S -u HOME A=1 go-tool --x\n");
  write("run-chain", "#!" + dir_ + "/run-env\n");
  write("run-sh", "#!/bin/sh\necho hi\n");
  EXPECT_NE(joined("run-direct").find("static-tool (the interpreter of " + dir_ +
                                      "/run-direct) is statically linked"),
            std::string::npos)
      << joined("run-direct");
  EXPECT_NE(joined("run-env").find("is statically linked"), std::string::npos);
  EXPECT_NE(joined("run-env-s").find("is a Go program"), std::string::npos);
  EXPECT_NE(joined("run-chain").find("the interpreter of " + dir_ + "/run-chain"),
            std::string::npos)
      << joined("run-chain");
  // A loop of scripts ends after the kernel's four levels, with nothing said.
  write("loop-a", "#!" + dir_ + "/loop-b\n");
  write("loop-b", "#!" + dir_ + "/loop-a\n");
  EXPECT_EQ(joined("loop-a"), "");
}

TEST(ProgramCheck, ShebangLines) {
  Shebang s = read_shebang("#!/bin/sh -e\necho");
  EXPECT_TRUE(s.present);
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.program, "");
  s = read_shebang("#!/usr/bin/env python3\n");
  EXPECT_EQ(s.interpreter, "/usr/bin/env");
  EXPECT_EQ(s.program, "python3");
  EXPECT_EQ(read_shebang("#!/usr/bin/env -S node --max-old-space-size=99\n").program, "node");
  EXPECT_EQ(read_shebang("#!/usr/bin/env -u HOME --chdir /tmp X=1 -- ruby -w\n").program, "ruby");
  EXPECT_EQ(read_shebang("#!/usr/bin/env\n").program, "");
  EXPECT_FALSE(read_shebang("#!\n").present);
  EXPECT_FALSE(read_shebang("# !/bin/sh").present);
  EXPECT_FALSE(read_shebang("").present);
  // The kernel reads 256 bytes: an interpreter beyond them is not one.
  EXPECT_FALSE(read_shebang("#!" + std::string(300, ' ') + "/bin/sh").present);
}

}  // namespace
}  // namespace vigil::cli
