# How the tree registers its GoogleTest executables, in one place.
#
# signals_add_gtest(<target> [TEST_PREFIX <prefix>])
#   Registers the tests of an existing GoogleTest executable with ctest under
#   the label "unit" and adds it to `signals-unit-tests-all`, the target the
#   sanitizer run of tools/test builds (ctest -L unit).
#
# Plugin tests are registered with the SDK's signals_add_plugin_test (GTEST),
#   as an out-of-tree plugin registers its own; in this tree they get the label
#   "unit", tests/support on the include path, and join signals-unit-tests-all.
include_guard(GLOBAL)

if(NOT TARGET signals-unit-tests-all)
  add_custom_target(signals-unit-tests-all)
endif()

function(signals_add_gtest target)
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "" ${ARGN})
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}" PROPERTIES LABELS unit)
  add_dependencies(signals-unit-tests-all ${target})
endfunction()

set(SIGNALS_PLUGIN_TEST_LABELS unit)
set(SIGNALS_PLUGIN_TEST_HOOK signals_bundled_plugin_test)
function(signals_bundled_plugin_test target)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
  add_dependencies(signals-unit-tests-all ${target})
endfunction()
