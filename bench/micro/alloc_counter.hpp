// Counts heap allocations made by the benchmark process (global operator new is replaced in
// alloc_counter.cpp), so that each benchmark can report allocations per iteration.
#ifndef VIGIL_BENCH_MICRO_ALLOC_COUNTER_HPP_
#define VIGIL_BENCH_MICRO_ALLOC_COUNTER_HPP_

#include <atomic>
#include <cstddef>

namespace vigil::bench {
extern std::atomic<std::size_t> g_allocations;
}  // namespace vigil::bench

#endif  // VIGIL_BENCH_MICRO_ALLOC_COUNTER_HPP_
