# The kernel's layering, checked by ctest (kernel.layering): nothing in the
# signals-kernel target includes a header of the libraries built on it
# (verify/, analysis/), and verify/ and analysis/ do not include each other.
# Usage: cmake -DSRC=<kernel/src> -P check_layering.cmake
file(GLOB_RECURSE sources RELATIVE ${SRC} ${SRC}/*.cpp ${SRC}/*.hpp)
set(violations "")
foreach(f IN LISTS sources)
  string(REGEX MATCH "^[^/]+" folder "${f}")
  if(folder STREQUAL "verify")
    set(forbidden "analysis")
  elseif(folder STREQUAL "analysis")
    set(forbidden "verify")
  else()
    set(forbidden "verify|analysis")
  endif()
  file(STRINGS ${SRC}/${f} hits REGEX "^[ \t]*#[ \t]*include[ \t]+[\"<](${forbidden})/")
  foreach(h IN LISTS hits)
    list(APPEND violations "${f}: ${h}")
  endforeach()
endforeach()
list(LENGTH sources count)
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "kernel layering: these includes go the wrong way "
                      "(kernel/README.md says what each folder may use):\n  ${text}")
endif()
message(STATUS "kernel layering: ${count} files, no include of verify/ or analysis/ from the kernel target")
