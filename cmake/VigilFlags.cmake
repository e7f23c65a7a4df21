# vigil_target_flags(TARGET): the warning and hardening flags every project target gets.
add_library(vigil_flags INTERFACE)
target_compile_options(vigil_flags INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter
  $<$<CONFIG:Release>:-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong>
  $<$<CONFIG:RelWithDebInfo>:-O2>)
if(VIGIL_SANITIZE)
  target_compile_options(vigil_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(vigil_flags INTERFACE -fsanitize=address,undefined)
endif()
if(VIGIL_FUZZ)
  # Every project object is instrumented for coverage; only fuzz targets link libFuzzer's main.
  target_compile_options(vigil_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer -g)
  target_link_options(vigil_flags INTERFACE -fsanitize=address,undefined)
endif()
