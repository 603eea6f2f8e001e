# Install layout and the Debian package (cpack -G DEB). The package's library dependencies are computed by
# dpkg-shlibdeps from what the binaries link, so they follow the build. Build the package with -DLMSCOPE_CUDA=OFF:
# the CUDA libraries come from NVIDIA's toolkit, not from Debian packages, so a CUDA build cannot declare them.
# Its version is lmscope::version() (cmake/Version.cmake), read when cpack runs (cmake/CPackVersion.cmake).
# tools/build-deb.sh builds it; tools/test-deb-in-chroot.sh installs and uses it in a fresh Debian 12.
include(GNUInstallDirs)
include(${CMAKE_CURRENT_LIST_DIR}/ManPage.cmake)

install(TARGETS lmscope-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET lmscope)
  install(TARGETS lmscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES packaging/lmscope.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES packaging/lmscope.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
install(FILES resources/demo/harbour.txt DESTINATION ${CMAKE_INSTALL_DATADIR}/lmscope/demo)
install(DIRECTORY resources/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lmscope/models)
install(DIRECTORY resources/bench DESTINATION ${CMAKE_INSTALL_DATADIR}/lmscope)
install(FILES README.md docs/evaluation.md docs/worker.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME lmscope)
set(CPACK_PACKAGE_VENDOR "lmscope")
set(CPACK_PACKAGE_CONTACT "lmscope developers <lmscope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})  # replaced by the built version when cpack runs
set(CPACK_LMSCOPE_VERSION_FILE ${LMSCOPE_GENERATED_DIR}/version.txt)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/CPackVersion.cmake)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Workbench for evaluating language-model checkpoints\n Loads Hugging Face checkpoint folders (Llama with RoPE extensions, DeltaNet, Gated\n DeltaNet, Mamba, Mamba2, GLA, RetNet, HGRN2, Samba, BitNet) and evaluates them:\n WikiText perplexity, zero-shot multiple choice, LAMBADA, perplexity vs length,\n passkey retrieval, LongPPL, character-level metrics, throughput.")
include(CPack)
