#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace vigil::bench {
std::atomic<std::size_t> g_allocations{0};
}  // namespace vigil::bench

void* operator new(std::size_t n) {
  vigil::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
