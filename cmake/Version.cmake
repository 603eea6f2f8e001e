# The version every binary, the Debian package and the reports state: the project version and the git revision of
# the sources, e.g. "0.1.0+git20261201.224300.3acb97a" (Debian version syntax; see engine/include/lmscope/version.h).
# The revision is read at build time, not at configure time, so a new commit needs no re-configure; only the
# generated version.cpp changes with it (written only when its text changes), so a commit recompiles one file.
set(LMSCOPE_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
set(_lmscope_version_args -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUT_DIR=${LMSCOPE_GENERATED_DIR}
    -DPROJECT_VERSION=${PROJECT_VERSION} -P ${CMAKE_CURRENT_LIST_DIR}/write_version.cmake)
# Once now, so the source exists for IDEs and the first build plan.
execute_process(COMMAND ${CMAKE_COMMAND} ${_lmscope_version_args} COMMAND_ERROR_IS_FATAL ANY)
add_custom_target(lmscope_version_file
  COMMAND ${CMAKE_COMMAND} ${_lmscope_version_args}
  BYPRODUCTS ${LMSCOPE_GENERATED_DIR}/version.cpp ${LMSCOPE_GENERATED_DIR}/version.txt
  VERBATIM)
add_library(lmscope_version STATIC ${LMSCOPE_GENERATED_DIR}/version.cpp)
add_dependencies(lmscope_version lmscope_version_file)
target_include_directories(lmscope_version PUBLIC ${CMAKE_SOURCE_DIR}/engine/include)
