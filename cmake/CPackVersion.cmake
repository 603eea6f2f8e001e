# Read by cpack (CPACK_PROJECT_CONFIG_FILE) when it packages, after the build: the package's version is the one the
# binaries were built with (cmake/Version.cmake writes it at every build), not the one known at configure time.
if(NOT EXISTS "${CPACK_LMSCOPE_VERSION_FILE}")
  message(FATAL_ERROR "${CPACK_LMSCOPE_VERSION_FILE} is missing: build before packaging (cmake --build, then cpack)")
endif()
file(STRINGS "${CPACK_LMSCOPE_VERSION_FILE}" _lmscope_version LIMIT_COUNT 1)
set(CPACK_PACKAGE_VERSION "${_lmscope_version}")
set(CPACK_DEBIAN_PACKAGE_VERSION "${_lmscope_version}")
