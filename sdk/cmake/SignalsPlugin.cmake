# signals_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [NO_INSTALL])
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
