# strata_add_plugin(<name> SOURCES <files...> [LIBRARIES <libs...>])
#
# Builds libstrata-<name>.so the way the host expects: a MODULE library whose
# only exported symbol is strata_plugin_v1 (hidden visibility for everything
# else, so plugins never clash with each other or the host), linked against
# strata::sdk. The target is called strata_plugin_<name>. When the variable
# STRATA_PLUGIN_OUTPUT_DIR is set the library is written there.
function(strata_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target strata_plugin_${name})
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${target} PRIVATE strata::sdk ${PLUGIN_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "strata-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # Unresolved symbols are an error at link time, not at load time.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  if(STRATA_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${STRATA_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
