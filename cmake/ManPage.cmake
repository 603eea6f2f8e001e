# lmscope-cli's manual page, written at build time by `lmscope-cli --man` from the command table that --help prints
# (app/cli/man_page.h), gzipped as Debian wants it (-n: no name or time stamp inside, so equal pages are equal files)
# and installed as share/man/man1/lmscope-cli.1.gz.
include(GNUInstallDirs)
set(LMSCOPE_MAN_PAGE ${CMAKE_BINARY_DIR}/man/lmscope-cli.1.gz)
add_custom_command(OUTPUT ${LMSCOPE_MAN_PAGE}
  COMMAND sh -c "mkdir -p \"$(dirname \"$2\")\" && \"$1\" --man > \"$2\" && gzip -9nf \"$2\""
          sh $<TARGET_FILE:lmscope-cli> ${CMAKE_BINARY_DIR}/man/lmscope-cli.1
  DEPENDS lmscope-cli
  COMMENT "Writing the lmscope-cli manual page"
  VERBATIM)
add_custom_target(lmscope-cli-man ALL DEPENDS ${LMSCOPE_MAN_PAGE})
install(FILES ${LMSCOPE_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
