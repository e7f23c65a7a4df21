// Keeps the agent's hooks in front of code that bypasses LD_PRELOAD: a library loaded with
// RTLD_DEEPBIND (PHP loads every extension so: pdo_sqlite, pdo_pgsql, curl...) looks its
// symbols up in its own dependencies first, so its calls to sqlite3_prepare_v2 or read went
// straight to libsqlite3 and libc. Each loaded object's GOT slots for the hooked functions are
// pointed at the hooks, which is what LD_PRELOAD gives every other object; for those objects it
// changes nothing.
#include "agent/interpose.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/hook_util.hpp"

namespace vigil::agent {
namespace {

// Every function the preload library defines for the program (preload.map).
constexpr const char* kHooked[] = {
#define VIGIL_HOOK(ret, name, params, args) #name,
#include "agent/hooks.def"
#undef VIGIL_HOOK
    "open", "open64", "openat", "openat64", "execl", "execlp", "execle", "syscall",
};
constexpr std::size_t kHookCount = sizeof kHooked / sizeof kHooked[0];

struct Hook {
  std::string_view name;
  void* address;
};

// The hooks by name (sorted), with their addresses in this library.
struct HookTable {
  std::array<Hook, kHookCount> hooks{};
  std::size_t size = 0;
  void* self_base = nullptr;

  HookTable() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&interpose_loaded_objects), &info) == 0 || info.dli_fname == nullptr)
      return;
    self_base = info.dli_fbase;
    void* self = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (self == nullptr) return;
    for (const char* name : kHooked) {
      void* address = dlsym(self, name);
      Dl_info where{};
      // Only this library's own definitions (a hook that is not exported is left alone).
      if (address != nullptr && dladdr(address, &where) != 0 && where.dli_fbase == self_base)
        hooks[size++] = Hook{name, address};
    }
    dlclose(self);
    std::sort(hooks.begin(), hooks.begin() + size,
              [](const Hook& a, const Hook& b) { return a.name < b.name; });
  }
  void* find(std::string_view name) const noexcept {
    auto end = hooks.begin() + size;
    auto it = std::lower_bound(hooks.begin(), end, name,
                               [](const Hook& h, std::string_view n) { return h.name < n; });
    return it != end && it->name == name ? it->address : nullptr;
  }
};

const HookTable& table() {
  static const HookTable t;
  return t;
}

std::atomic<unsigned long long> g_seen_adds{0};
using Ticks = std::chrono::steady_clock::rep;
std::atomic<Ticks> g_last_scan{std::numeric_limits<Ticks>::min() / 2};
constexpr Ticks kScanInterval =
    std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(1))
        .count();
std::atomic<bool> g_busy{false};

int first_adds(struct dl_phdr_info* info, size_t, void* data) {
  *static_cast<unsigned long long*>(data) = info->dlpi_adds;
  return 1;
}

// An object the hooks must never be put in front of: the C library and the loader (their
// internal calls are theirs), the vDSO, and this library (its calls are the real functions).
bool skipped(const struct dl_phdr_info* info, const HookTable& t) {
  if (reinterpret_cast<void*>(info->dlpi_addr) == t.self_base) return true;
  const char* name = info->dlpi_name;
  if (name == nullptr) return true;
  std::string_view n(name);
  const std::size_t slash = n.rfind('/');
  std::string_view base = slash == std::string_view::npos ? n : n.substr(slash + 1);
  return base.starts_with("libc.so") || base.starts_with("ld-linux") || base.starts_with("linux-vdso");
}

#if defined(__x86_64__)
// Points one GOT slot at `target`, writable for the moment if it lies in the RELRO range
// (pages of `page` bytes). False when it could not be made writable.
bool set_slot(void** slot, void* target, std::uintptr_t relro_begin, std::uintptr_t relro_end,
              std::uintptr_t page) {
  if (*slot == target) return true;
  const auto at = reinterpret_cast<std::uintptr_t>(slot);
  if (at < relro_begin || at >= relro_end) {
    __atomic_store_n(slot, target, __ATOMIC_RELAXED);
    return true;
  }
  void* start = reinterpret_cast<void*>(at & ~(page - 1));
  if (mprotect(start, page, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(slot, target, __ATOMIC_RELAXED);
  mprotect(start, page, PROT_READ);
  return true;
}

// One loaded object, as dl_iterate_phdr lists it.
struct Object {
  std::string name;  // "" for the program itself
  std::uintptr_t base = 0;
  const ElfW(Phdr)* phdr = nullptr;
  int phnum = 0;
};

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<Object>*>(data);
  if (skipped(info, table())) return 0;
  out->push_back(Object{info->dlpi_name, info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum});
  return 0;
}

// Points the object's GOT slots of hooked functions at the hooks; returns how many could not
// be. REQUIRES: the object is loaded and relocated (a handle to it is held), so that the loader
// writes none of it anymore.
std::uint64_t patch_object(const Object& o, std::uintptr_t page) {
  const HookTable& t = table();
  std::uint64_t failed = 0;
  const ElfW(Dyn)* dyn = nullptr;
  std::uintptr_t relro_begin = 0, relro_end = 0;
  for (int i = 0; i < o.phnum; ++i) {
    const ElfW(Phdr)& ph = o.phdr[i];
    if (ph.p_type == PT_DYNAMIC) dyn = reinterpret_cast<const ElfW(Dyn)*>(o.base + ph.p_vaddr);
    if (ph.p_type == PT_GNU_RELRO) {
      // The loader makes read-only the whole pages of this range only (its end rounded down):
      // the page where it ends stays writable, and must not be made read-only here.
      relro_begin = (o.base + ph.p_vaddr) & ~(page - 1);
      relro_end = (o.base + ph.p_vaddr + ph.p_memsz) & ~(page - 1);
    }
  }
  if (dyn == nullptr) return 0;
  std::uintptr_t symtab = 0, strtab = 0, jmprel = 0, rela = 0;
  std::size_t strsz = 0, pltrelsz = 0, relasz = 0;
  for (const ElfW(Dyn)* d = dyn; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = d->d_un.d_ptr; break;
      case DT_STRTAB: strtab = d->d_un.d_ptr; break;
      case DT_STRSZ: strsz = d->d_un.d_val; break;
      case DT_JMPREL: jmprel = d->d_un.d_ptr; break;
      case DT_PLTRELSZ: pltrelsz = d->d_un.d_val; break;
      case DT_RELA: rela = d->d_un.d_ptr; break;
      case DT_RELASZ: relasz = d->d_un.d_val; break;
      default: break;
    }
  }
  // The loader relocates these addresses in place; an object it did not is offset here.
  auto absolute = [&](std::uintptr_t p) { return p != 0 && p < o.base ? p + o.base : p; };
  symtab = absolute(symtab);
  strtab = absolute(strtab);
  jmprel = absolute(jmprel);
  rela = absolute(rela);
  if (symtab == 0 || strtab == 0) return 0;
  const auto* syms = reinterpret_cast<const ElfW(Sym)*>(symtab);
  const auto* strings = reinterpret_cast<const char*>(strtab);
  auto walk = [&](std::uintptr_t table_at, std::size_t bytes) {
    if (table_at == 0) return;
    const auto* r = reinterpret_cast<const ElfW(Rela)*>(table_at);
    for (std::size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
      const auto type = ELF64_R_TYPE(r[i].r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      const ElfW(Sym)& s = syms[ELF64_R_SYM(r[i].r_info)];
      if (s.st_shndx != SHN_UNDEF || s.st_name >= strsz) continue;  // not a call out
      void* hook = t.find(strings + s.st_name);
      if (hook == nullptr) continue;
      if (!set_slot(reinterpret_cast<void**>(o.base + r[i].r_offset), hook, relro_begin, relro_end,
                    page))
        ++failed;
    }
  };
  walk(jmprel, pltrelsz);
  walk(rela, relasz);
  return failed;
}
#endif

}  // namespace

std::uint64_t interpose_loaded_objects() noexcept {
  std::uint64_t failed = 0;
#if defined(__x86_64__)
  unsigned long long adds = 0;
  dl_iterate_phdr(first_adds, &adds);
  if (adds == g_seen_adds.load(std::memory_order_acquire)) return 0;
  // A program that loads and unloads libraries all the time (plugins per request) is scanned
  // once a second at most: a scan opens a handle to every loaded object.
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  if (now - g_last_scan.load(std::memory_order_relaxed) < kScanInterval) return 0;
  if (g_busy.exchange(true, std::memory_order_acquire)) return 0;  // another thread is at it
  g_last_scan.store(now, std::memory_order_relaxed);
  Guard g;
  ErrnoSaver saver;
  try {
    table();  // built here: its dlopen must not run inside dl_iterate_phdr (the loader's locks)
    std::vector<Object> objects;
    dl_iterate_phdr(collect, &objects);
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    for (const Object& o : objects) {
      // A handle, taken under the loader's lock, waits for a load in progress in another thread
      // to finish (an object is listed before it is relocated, and then the loader still writes
      // into it) and keeps the object loaded while it is patched.
      void* handle = dlopen(o.name.empty() ? nullptr : o.name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
      if (handle == nullptr) continue;
      failed += patch_object(o, page);
      dlclose(handle);
    }
    g_seen_adds.store(adds, std::memory_order_release);
  } catch (...) {  // no memory for the list: tried again at the next connection
  }
  g_busy.store(false, std::memory_order_release);
#endif
  return failed;
}

}  // namespace vigil::agent
