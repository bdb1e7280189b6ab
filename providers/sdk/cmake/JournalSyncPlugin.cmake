# jsync_add_plugin(NAME [EXAMPLE] SOURCES...)
#
# Builds a journal-sync provider plugin: a MODULE library named jsync-NAME.so (no "lib"
# prefix), compiled against the SDK header only (JournalSync::sdk), with hidden visibility so
# it exports nothing but the two symbols JSYNC_DEFINE_PROVIDER marks (the descriptor and the
# entry). The target is jsync_provider_NAME; `cmake --install` puts the file in
# lib/jsync/plugins, where the installed jsync finds it. Set JSYNC_PLUGIN_OUTPUT_DIR to choose
# where the built file lands (default: the current binary folder). EXAMPLE: built, never
# installed.
#
# Same rules as providers/CMakeLists.txt in the journal-sync tree.
function(jsync_add_plugin name)
  cmake_parse_arguments(ARG "EXAMPLE" "" "" ${ARGN})
  if(NOT ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "jsync_add_plugin(${name}): no source files given")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_-]+$")
    message(FATAL_ERROR "jsync_add_plugin(${name}): use letters, digits, '-' and '_' only")
  endif()
  add_library(jsync_provider_${name} MODULE ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(jsync_provider_${name} PRIVATE JournalSync::sdk)
  set_target_properties(jsync_provider_${name} PROPERTIES
    PREFIX "" OUTPUT_NAME "jsync-${name}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(JSYNC_PLUGIN_OUTPUT_DIR)
    set_target_properties(jsync_provider_${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${JSYNC_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_EXAMPLE)
    install(TARGETS jsync_provider_${name} LIBRARY DESTINATION lib/jsync/plugins)
  endif()
endfunction()
