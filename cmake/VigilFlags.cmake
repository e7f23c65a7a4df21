# vigil_target_flags(TARGET): the warning and hardening flags every project target gets.
add_library(vigil_flags INTERFACE)
set(vigil_compact "$<AND:$<CONFIG:Release,RelWithDebInfo>,$<CXX_COMPILER_ID:GNU>>")
target_compile_options(vigil_flags INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter
  $<$<CONFIG:Release>:-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong>
  $<$<CONFIG:RelWithDebInfo>:-O2>
  # Compact code: the agent's code runs a little at a time between its host's, so nearly every
  # line of it a request touches is fetched anew; padding for alignment only adds lines (4% of
  # the agent's instruction-cache misses per request). Library calls go through the GOT
  # directly instead of a PLT stub (70 instructions per request). GCC only: clang, which
  # builds the fuzz targets, knows some of these and warns about the others. Thread-local
  # variables of position-independent code (the engine's per-thread scratch space, linked into
  # the preload library) are reached through TLS descriptors: a call to __tls_get_addr in the
  # dynamic linker on every access becomes one indirect call to a two-instruction resolver.
  $<${vigil_compact}:-falign-functions=1 -falign-jumps=1 -falign-loops=1 -falign-labels=1
    -fno-plt -mtls-dialect=gnu2>)
# The flags that shape code generation apply again at link time (link-time optimisation).
target_link_options(vigil_flags INTERFACE
  $<${vigil_compact}:-falign-functions=1 -falign-jumps=1 -falign-loops=1 -falign-labels=1
    -fno-plt>)
if(VIGIL_SANITIZE)
  target_compile_options(vigil_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(vigil_flags INTERFACE -fsanitize=address,undefined)
endif()
if(VIGIL_FUZZ)
  # Every project object is instrumented for coverage; only fuzz targets link libFuzzer's main.
  target_compile_options(vigil_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer -g
    # A dependency's known, harmless report (the file says which and why).
    -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/ubsan-ignorelist.txt)
  target_link_options(vigil_flags INTERFACE -fsanitize=address,undefined)
endif()

# Profile-guided optimisation of the agent's code (scripts/build-pgo): the engine, the events
# and the preload library are built once instrumented (generate), run under real programs
# (scripts/pgo-train), then built again from the profile (use). Laid out by the profile, the
# code a request runs sits together, off the paths it does not take. GCC only.
set(VIGIL_PGO "" CACHE STRING "Profile-guided build of the agent's code: generate, use, or empty")
set(VIGIL_PGO_DIR "${CMAKE_BINARY_DIR}/pgo-profile" CACHE PATH "Where the PGO profile is written and read")
add_library(vigil_pgo INTERFACE)
if(VIGIL_PGO STREQUAL "generate")
  # Atomic counters: the agent's hooks run on every thread of the program.
  target_compile_options(vigil_pgo INTERFACE -fprofile-generate=${VIGIL_PGO_DIR} -fprofile-update=atomic)
  target_link_options(vigil_pgo INTERFACE -fprofile-generate=${VIGIL_PGO_DIR})
elseif(VIGIL_PGO STREQUAL "use")
  if(NOT EXISTS "${VIGIL_PGO_DIR}")
    message(FATAL_ERROR "VIGIL_PGO=use: no profile in ${VIGIL_PGO_DIR} (scripts/build-pgo makes one)")
  endif()
  # Partial training: what the training did not run is optimised as usual, not for size.
  target_compile_options(vigil_pgo INTERFACE -fprofile-use=${VIGIL_PGO_DIR} -fprofile-partial-training
    -Wno-missing-profile)
elseif(NOT VIGIL_PGO STREQUAL "")
  message(FATAL_ERROR "VIGIL_PGO must be generate, use, or empty (not ${VIGIL_PGO})")
endif()
