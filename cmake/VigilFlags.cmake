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
  # builds the fuzz targets, knows some of these and warns about the others.
  $<${vigil_compact}:-falign-functions=1 -falign-jumps=1 -falign-loops=1 -falign-labels=1
    -fno-plt>)
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
