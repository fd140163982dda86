# signals_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [NO_INSTALL])
# signals_add_plugin_test(<name> SOURCES <src>... ...), below: its tests.
#
# Builds libsignals-<name>.so, a Signals plugin, against the SDK only. <name> is
# "<kind>-<name>", e.g. "source-spool". Symbols are hidden except the entry
# point, so two plugins never clash. The library installs into
# lib/signals/plugins, where signalsd and signalsctl look without configuration.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(signals_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "signals_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^(cas|index|signer|tlog|metrics|transport|source)-[a-z0-9][a-z0-9-]*$")
    message(FATAL_ERROR "signals_add_plugin(${name}): the name must be <kind>-<name> with kind one of cas index signer tlog metrics transport source")
  endif()
  set(target signals-plugin-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME "signals-${name}"
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(TARGET SignalsSDK::sdk)
    target_link_libraries(${target} PRIVATE SignalsSDK::sdk)
  else()
    target_link_libraries(${target} PRIVATE signals-sdk)
  endif()
  target_compile_features(${target} PRIVATE cxx_std_17)
  # A plugin must not leave undefined symbols for the host to fill in.
  target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  if(ARG_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES})
  endif()
  if(DEFINED SIGNALS_BUILD_PLUGIN_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${SIGNALS_BUILD_PLUGIN_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/signals/plugins)
  endif()
endfunction()

# signals_add_plugin_test(<kind>-<name> SOURCES <src>... [LIBRARIES <lib>...]
#                         [GTEST] [TEST_PREFIX <prefix>] [LABELS <label>...])
#
# Builds signals-plugin-<kind>-<name>-tests, the tests of the plugin that
# signals_add_plugin(<kind>-<name> ...) made in the same project, and registers
# them with ctest (call enable_testing() first). The executable gets the SDK
# headers, including the fake host <signals/testing/fake_host.hpp>, and the
# macro SIGNALS_PLUGIN_UNDER_TEST, the path of the built plugin library; it is
# rebuilt when the plugin is. With GTEST it links GoogleTest's main (found with
# find_package(GTest) when not yet found) and registers every test case
# (gtest_discover_tests, names prefixed with TEST_PREFIX); without, it is one
# ctest test named <TEST_PREFIX><kind>-<name> that passes when it exits 0.
# Sets SIGNALS_PLUGIN_TEST_TARGET to the executable's target name.
function(signals_add_plugin_test name)
  cmake_parse_arguments(ARG "GTEST" "TEST_PREFIX" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "signals_add_plugin_test(${name}): SOURCES is required")
  endif()
  set(plugin_target signals-plugin-${name})
  if(NOT TARGET ${plugin_target})
    message(FATAL_ERROR "signals_add_plugin_test(${name}): call signals_add_plugin(${name} ...) first")
  endif()
  set(target signals-plugin-${name}-tests)
  add_executable(${target} ${ARG_SOURCES})
  if(TARGET SignalsSDK::sdk)
    target_link_libraries(${target} PRIVATE SignalsSDK::sdk)
  else()
    target_link_libraries(${target} PRIVATE signals-sdk)
  endif()
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS} Threads::Threads ${ARG_LIBRARIES})
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_compile_definitions(${target} PRIVATE SIGNALS_PLUGIN_UNDER_TEST="$<TARGET_FILE:${plugin_target}>")
  add_dependencies(${target} ${plugin_target})
  # A project may add labels to every plugin test it registers.
  set(labels ${ARG_LABELS} ${SIGNALS_PLUGIN_TEST_LABELS})
  if(ARG_GTEST)
    if(NOT TARGET GTest::gtest_main)
      find_package(GTest REQUIRED)
    endif()
    target_link_libraries(${target} PRIVATE GTest::gtest_main)
    include(GoogleTest)
    if(labels)
      gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}" PROPERTIES LABELS "${labels}")
    else()
      gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}")
    endif()
  else()
    add_test(NAME ${ARG_TEST_PREFIX}${name} COMMAND ${target})
    if(labels)
      set_tests_properties(${ARG_TEST_PREFIX}${name} PROPERTIES LABELS "${labels}")
    endif()
  endif()
  # The Signals tree itself adds its test support this way (CMake >= 3.18).
  if(DEFINED SIGNALS_PLUGIN_TEST_HOOK)
    cmake_language(CALL ${SIGNALS_PLUGIN_TEST_HOOK} ${target})
  endif()
  set(SIGNALS_PLUGIN_TEST_TARGET ${target} PARENT_SCOPE)
endfunction()
