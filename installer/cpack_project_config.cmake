# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE): what each package carries.
# The Windows and macOS installers are for the desktop console; servers run on Linux
# (packages, containers: see docker/).
if(CPACK_GENERATOR STREQUAL "NSIS" OR CPACK_GENERATOR STREQUAL "NSIS64")
  set(CPACK_COMPONENTS_ALL console)
  set(CPACK_PACKAGE_INSTALL_DIRECTORY "Instant Dev Logs")
elseif(CPACK_GENERATOR STREQUAL "DragNDrop")
  set(CPACK_COMPONENTS_ALL console)
  # The bundle sits at the top of the image, next to the /Applications link.
  set(CPACK_PACKAGE_ICON "${CMAKE_CURRENT_LIST_DIR}/macos/idl-console.icns")
endif()
