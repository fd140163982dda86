# How the tree registers its GoogleTest executables, in one place.
#
# signals_add_gtest(<target> [TEST_PREFIX <prefix>])
#   Registers the tests of an existing GoogleTest executable with ctest under
#   the label "unit" and adds it to `signals-unit-tests-all`, the target the
#   sanitizer run of tools/test builds (ctest -L unit).
#
# signals_add_plugin_test(<plugin> SOURCES <file>... [LIBRARIES <lib>...] [TEST_PREFIX <prefix>])
#   The tests of plugins/<plugin>: an executable signals-<plugin>-tests linked
#   with GoogleTest and the SDK, with tests/support on its include path and
#   SIGNALS_PLUGIN_UNDER_TEST set to the path of the built plugin, which it
#   depends on. Then signals_add_gtest.
include_guard(GLOBAL)

if(NOT TARGET signals-unit-tests-all)
  add_custom_target(signals-unit-tests-all)
endif()

function(signals_add_gtest target)
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "" ${ARGN})
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}" PROPERTIES LABELS unit)
  add_dependencies(signals-unit-tests-all ${target})
endfunction()

function(signals_add_plugin_test plugin)
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "signals_add_plugin_test(${plugin}): SOURCES is required")
  endif()
  set(target signals-${plugin}-tests)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE GTest::gtest_main signals-sdk ${CMAKE_DL_LIBS} ${ARG_LIBRARIES})
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
  target_compile_definitions(${target} PRIVATE
    SIGNALS_PLUGIN_UNDER_TEST="$<TARGET_FILE:signals-plugin-${plugin}>")
  add_dependencies(${target} signals-plugin-${plugin})
  signals_add_gtest(${target} TEST_PREFIX "${ARG_TEST_PREFIX}")
endfunction()
