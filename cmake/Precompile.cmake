# Precompiled headers for the targets whose files all parse the same heavy headers (the test
# programs: GoogleTest and nlohmann/json in nearly every file). Measured on the 2-core build
# machine before keeping it (docs/benchmarks.md, "Build times"): the test programs' cold
# compile took 9 % less CPU, and a warm ccache still hits every file. Boost.Beast is parsed by
# one file only (net/local_http_server.cc), so it gets no PCH. JSYNC_PCH=OFF builds every file
# on its own includes, which is how a missing #include shows up.
#
# ccache caches these compiles only with sloppiness pch_defines,time_macros (scripts/build.sh
# sets it); GCC finds the .gch through the -include CMake passes, clang needs
# -fno-pch-timestamp so a rebuilt, identical PCH still hits.
option(JSYNC_PCH "Precompiled headers for the test programs" ON)

# jsync_precompile(TARGET HEADER...): HEADER as <name> (a system header).
function(jsync_precompile target)
  if(NOT JSYNC_PCH)
    return()
  endif()
  target_precompile_headers(${target} PRIVATE ${ARGN})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE "SHELL:-Xclang -fno-pch-timestamp")
  endif()
endfunction()
