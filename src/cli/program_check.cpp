#include "cli/program_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace vigil::cli {
namespace {

constexpr std::size_t kMaxHeaders = 4096;  // sections
constexpr std::size_t kMaxTable = 64 * 1024;
constexpr std::size_t kMaxNoteSegments = 16;  // linkers write two to four
constexpr std::uint32_t kPtDynamic = 2, kPtInterp = 3, kPtNote = 4;
constexpr std::uint64_t kDtNull = 0, kDtSoname = 14;
constexpr std::uint32_t kNtGoBuildId = 4;

// Little- or big-endian fields of an ELF file, by its EI_DATA.
struct Fields {
  bool big = false;
  std::uint64_t get(std::string_view b, std::size_t at, std::size_t width) const {
    if (at > b.size() || b.size() - at < width) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) {
      std::size_t k = big ? i : width - 1 - i;
      v = (v << 8) | static_cast<unsigned char>(b[at + k]);
    }
    return v;
  }
};

// The offsets of the fields this file needs, for each class.
struct Layout {
  std::size_t header, phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx;
  std::size_t word;                              // address-sized fields
  std::size_t ph_entry, ph_offset, ph_filesz;    // a program header's size, its fields
  std::size_t sh_entry, sh_offset, sh_size;      // a section header's size, its fields
};
constexpr Layout kElf32{52, 28, 32, 42, 44, 46, 48, 50, 4, 32, 4, 16, 40, 16, 20};
constexpr Layout kElf64{64, 32, 40, 54, 56, 58, 60, 62, 8, 56, 8, 32, 64, 24, 32};

// Whether a note table (PT_NOTE) holds Go's build id note: owner "Go", type 4.
bool has_go_note(std::string_view notes, const Fields& f) {
  std::size_t at = 0;
  while (notes.size() - at >= 12) {
    std::uint64_t namesz = f.get(notes, at, 4), descsz = f.get(notes, at + 4, 4);
    std::uint64_t type = f.get(notes, at + 8, 4);
    at += 12;
    std::uint64_t name_padded = (namesz + 3) & ~std::uint64_t{3};
    std::uint64_t desc_padded = (descsz + 3) & ~std::uint64_t{3};
    if (name_padded > notes.size() - at) return false;
    std::string_view name = notes.substr(at, namesz);
    if (type == kNtGoBuildId && (name == std::string_view("Go\0", 3) || name == "Go")) return true;
    at += name_padded;
    if (desc_padded > notes.size() - at) return false;
    at += desc_padded;
  }
  return false;
}

bool is_go_section(std::string_view names, std::uint64_t at) {
  if (at >= names.size()) return false;
  std::string_view rest = names.substr(at);
  std::string_view name = rest.substr(0, rest.find('\0'));
  return name == ".go.buildinfo" || name == ".gopclntab" || name == ".note.go.buildid";
}

std::string read_fd(int fd, std::uint64_t offset, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// As execvp finds a command: a name with a '/' as it is, else the first executable regular
// file of that name in PATH.
std::string find_program(const std::string& command) {
  if (command.empty()) return {};
  if (command.find('/') != std::string::npos) return command;
  const char* env = std::getenv("PATH");
  std::string_view path = env != nullptr ? env : "/bin:/usr/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string dir(path.substr(start, end - start));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + command;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

// Whether the kernel starts the program in secure mode (AT_SECURE), where the dynamic linker
// ignores LD_PRELOAD: it runs as another user or group than ours (set-user-ID, set-group-ID),
// or it gains capabilities from the file, which root holds already.
bool starts_secure(const std::string& path, const struct stat& st) {
  if ((st.st_mode & S_ISUID) != 0 && st.st_uid != getuid()) return true;
  if ((st.st_mode & S_ISGID) != 0 && st.st_gid != getgid()) return true;
  return getuid() != 0 && getxattr(path.c_str(), "security.capability", nullptr, 0) > 0;
}

std::string describe(const ElfFacts& e) {
  std::string bits = e.elf_class == 1 ? "32-bit" : e.elf_class == 2 ? "64-bit" : "unknown-class";
  return bits + " ELF for machine " + std::to_string(e.machine);
}

}  // namespace

ElfFacts read_elf(const ReadAt& read) {
  ElfFacts facts;
  std::string head = read(0, kElf64.header);
  if (head.size() < 16 || head.compare(0, 4, "\x7f" "ELF") != 0) return facts;
  int elf_class = static_cast<unsigned char>(head[4]);
  if (elf_class != 1 && elf_class != 2) return facts;
  const Layout& l = elf_class == 1 ? kElf32 : kElf64;
  if (head.size() < l.header) return facts;
  Fields f{head[5] == 2};
  facts.elf = true;
  facts.elf_class = elf_class;
  facts.machine = static_cast<std::uint16_t>(f.get(head, 18, 2));

  std::uint64_t phoff = f.get(head, l.phoff, l.word), phentsize = f.get(head, l.phentsize, 2);
  std::uint64_t phnum = f.get(head, l.phnum, 2);
  // As the kernel: headers of exactly the class's size, in a table of at most 64 KiB.
  if (phentsize == l.ph_entry && phentsize * phnum <= kMaxTable) {
    std::string table = read(phoff, static_cast<std::size_t>(phentsize * phnum));
    bool dynamic_seen = false;
    std::size_t notes_read = 0;
    for (std::size_t i = 0; (i + 1) * phentsize <= table.size(); ++i) {
      std::string_view ph = std::string_view(table).substr(i * phentsize, phentsize);
      auto type = static_cast<std::uint32_t>(f.get(ph, 0, 4));
      std::uint64_t offset = f.get(ph, l.ph_offset, l.word);
      std::uint64_t size = std::min<std::uint64_t>(f.get(ph, l.ph_filesz, l.word), kMaxTable);
      if (type == kPtInterp) facts.interpreter = true;
      if (type == kPtNote && !facts.go && notes_read++ < kMaxNoteSegments)
        facts.go = has_go_note(read(offset, static_cast<std::size_t>(size)), f);
      if (type == kPtDynamic && !dynamic_seen) {
        dynamic_seen = true;
        std::string dyn = read(offset, static_cast<std::size_t>(size));
        for (std::size_t at = 0; at + 2 * l.word <= dyn.size(); at += 2 * l.word) {
          std::uint64_t tag = f.get(dyn, at, l.word);
          if (tag == kDtNull) break;
          if (tag == kDtSoname) facts.shared_object = true;
        }
      }
    }
  }
  if (facts.interpreter) facts.shared_object = false;

  // Section headers: Go's sections, for a build whose notes were dropped. Extended numbering
  // (e_shnum 0, e_shstrndx 0xffff) is left alone: the notes above still answer.
  std::uint64_t shoff = f.get(head, l.shoff, l.word), shentsize = f.get(head, l.shentsize, 2);
  std::uint64_t shnum = f.get(head, l.shnum, 2), shstrndx = f.get(head, l.shstrndx, 2);
  if (!facts.go && shoff != 0 && shentsize == l.sh_entry && shnum <= kMaxHeaders &&
      shstrndx < shnum) {
    std::string table = read(shoff, static_cast<std::size_t>(shentsize * shnum));
    if (table.size() == shentsize * shnum) {
      std::string_view strtab_header =
          std::string_view(table).substr(static_cast<std::size_t>(shstrndx * shentsize), shentsize);
      std::uint64_t names_at = f.get(strtab_header, l.sh_offset, l.word);
      std::uint64_t names_size =
          std::min<std::uint64_t>(f.get(strtab_header, l.sh_size, l.word), kMaxTable);
      std::string names = read(names_at, static_cast<std::size_t>(names_size));
      for (std::size_t i = 0; i < shnum && !facts.go; ++i) {
        std::string_view sh = std::string_view(table).substr(i * shentsize, shentsize);
        facts.go = is_go_section(names, f.get(sh, 0, 4));
      }
    }
  }
  return facts;
}

Shebang read_shebang(std::string_view head) {
  Shebang s;
  if (head.size() < 2 || head.substr(0, 2) != "#!") return s;
  head = head.substr(2, 254);
  head = head.substr(0, head.find('\n'));
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < head.size()) {
    while (i < head.size() && is_space(head[i])) ++i;
    std::size_t start = i;
    while (i < head.size() && !is_space(head[i])) ++i;
    if (i > start) words.push_back(head.substr(start, i - start));
  }
  if (words.empty()) return s;
  s.present = true;
  s.interpreter = std::string(words[0]);
  std::string_view base = words[0].substr(words[0].rfind('/') + 1);
  if (base != "env") return s;
  // env's own options come first: -S splits the rest (already split here), -u NAME and -C DIR
  // take a value, NAME=VALUE sets a variable; the first other word is the program.
  for (std::size_t k = 1; k < words.size(); ++k) {
    std::string_view w = words[k];
    if (w == "-u" || w == "-C" || w == "--unset" || w == "--chdir") {
      ++k;
      continue;
    }
    if (w == "--") {
      if (k + 1 < words.size()) s.program = std::string(words[k + 1]);
      return s;
    }
    if (w.front() == '-' || w.find('=') != std::string_view::npos) continue;
    s.program = std::string(w);
    return s;
  }
  return s;
}

std::vector<std::string> program_blindspots(const std::string& command, const std::string& agent) {
  std::vector<std::string> warnings;
  ElfFacts own;
  if (int fd = open(agent.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    own = read_elf([fd](std::uint64_t at, std::size_t n) { return read_fd(fd, at, n); });
    close(fd);
  }
  std::string name = command, path = find_program(command), through;
  for (int depth = 0; depth < 5 && !path.empty(); ++depth) {
    struct stat st;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return warnings;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return warnings;
    }
    std::string head = read_fd(fd, 0, 256);
    Shebang shebang = read_shebang(head);
    ElfFacts elf;
    if (!shebang.present)
      elf = read_elf([fd](std::uint64_t at, std::size_t n) { return read_fd(fd, at, n); });
    close(fd);
    std::string who = through.empty() ? path : path + " (the interpreter of " + through + ")";
    if (shebang.present) {
      through = through.empty() ? path : through;
      name = shebang.program.empty() ? shebang.interpreter : shebang.program;
      path = find_program(name);
      continue;
    }
    if (!elf.elf) return warnings;
    if (starts_secure(path, st))
      warnings.push_back(who + " is set-user-ID, set-group-ID or has file capabilities: the "
                               "dynamic linker ignores LD_PRELOAD for it, so the agent is not "
                               "loaded and nothing it does is seen");
    if (own.elf && (own.elf_class != elf.elf_class || own.machine != elf.machine))
      warnings.push_back(who + " is a " + describe(elf) + " and the agent a " + describe(own) +
                         ": the dynamic linker cannot load the agent into it, and nothing it "
                         "does is seen");
    else if (!elf.interpreter && !elf.shared_object)
      warnings.push_back(who + " is statically linked: the dynamic linker, which loads the "
                               "agent, never runs in it, and nothing it does is seen");
    else if (elf.go)
      warnings.push_back(who + " is a Go program: Go makes its own system calls instead of the "
                               "C library's, so the agent sees none of its connections, "
                               "requests or operations");
    return warnings;
  }
  return warnings;
}

}  // namespace vigil::cli
