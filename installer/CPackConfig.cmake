# Packaging (CPack). Included at the end of the top-level CMakeLists.txt, after every target
# and install rule exists. Two install components:
#
#   console  idl-console, its desktop entry, icons and AppStream metadata
#   backend  idl-collector, idl-processor, idl-writer, idl-gateway, idl-admin, idl-stack, ...
#
# Generators (see docs/install.md):
#   Linux    DEB (one package per component: instant-dev-logs-console, instant-dev-logs-server)
#            and TGZ (everything in one archive). Both are built and tested here
#            (tests/deploy/test_deb_package.sh).
#   Windows  NSIS: the console only, Start-menu entry, windeployqt run at install time;
#            ZIP: the same files as a portable archive.
#   macOS    DragNDrop: idl-console.app with Info.plist and icon, macdeployqt run at install time.
#   Both are built by .github/workflows/console-packages.yml (docs/install.md, "Windows and macOS packages").
#
#   cmake --build build && (cd build && cpack -G DEB)      # or -G TGZ / NSIS / DragNDrop
include_guard(GLOBAL)

set(_idl_installer_dir ${CMAKE_CURRENT_LIST_DIR})

set(CPACK_PACKAGE_NAME "instant-dev-logs")
set(CPACK_PACKAGE_VENDOR "Instant Dev Logs")
set(CPACK_PACKAGE_CONTACT "Instant Dev Logs maintainers <maintainers@instant-dev-logs.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Instant Dev Logs")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://instant-dev-logs.invalid/")
# Start-menu (NSIS) entry: bin/idl-console(.exe) shown as "Instant Dev Logs".
set(CPACK_PACKAGE_EXECUTABLES "idl-console" "Instant Dev Logs")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
# Generator-specific choices (which components each one carries) are made at cpack time.
set(CPACK_PROJECT_CONFIG_FILE "${_idl_installer_dir}/cpack_project_config.cmake")

# ---- components --------------------------------------------------------------------------
set(CPACK_COMPONENTS_ALL)
if(IDL_BUILD_CONSOLE AND TARGET idl-console)
  list(APPEND CPACK_COMPONENTS_ALL console)
endif()
if(IDL_BUILD_BACKEND)
  list(APPEND CPACK_COMPONENTS_ALL backend)
endif()

# ---- DEB ---------------------------------------------------------------------------------
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_NAME "instant-dev-logs-console")
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SECTION "devel")
# Loaded as plugins, so dpkg-shlibdeps cannot see them: the xcb/wayland platform plugins and
# the SVG icon engine the console's icons need.
set(CPACK_DEBIAN_CONSOLE_PACKAGE_DEPENDS "qt6-qpa-plugins, libqt6svg6")
set(CPACK_DEBIAN_BACKEND_PACKAGE_NAME "instant-dev-logs-server")
set(CPACK_DEBIAN_BACKEND_PACKAGE_SECTION "net")
# idl-stack runs a private PostgreSQL and a local Kafka broker (a JVM) for one-box installs.
set(CPACK_DEBIAN_BACKEND_PACKAGE_RECOMMENDS "postgresql-15, openjdk-17-jre-headless")
set(CPACK_DEBIAN_BACKEND_PACKAGE_SUGGESTS "instant-dev-logs-console, prometheus")

# ---- TGZ: one archive with every component -----------------------------------------------
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)

# ---- NSIS (Windows) ----------------------------------------------------------------------
set(CPACK_NSIS_DISPLAY_NAME "Instant Dev Logs")
set(CPACK_NSIS_PACKAGE_NAME "Instant Dev Logs ${PROJECT_VERSION}")
set(CPACK_NSIS_MUI_ICON "${_idl_installer_dir}/windows/idl-console.ico")
set(CPACK_NSIS_MUI_UNIICON "${_idl_installer_dir}/windows/idl-console.ico")
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\idl-console.exe")
set(CPACK_NSIS_EXECUTABLES_DIRECTORY "bin")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH OFF)
set(CPACK_NSIS_URL_INFO_ABOUT "${CPACK_PACKAGE_HOMEPAGE_URL}")
set(CPACK_NSIS_CONTACT "${CPACK_PACKAGE_CONTACT}")
set(CPACK_NSIS_MUI_FINISHPAGE_RUN "bin\\\\idl-console.exe")
set(CPACK_CREATE_DESKTOP_LINKS "idl-console")

# ---- DragNDrop (macOS) -------------------------------------------------------------------
set(CPACK_DMG_VOLUME_NAME "Instant Dev Logs")
set(CPACK_DMG_FORMAT "UDZO")

# ---- backend extras ------------------------------------------------------------------------
# idl-stack runs a local Kafka broker from jars fetched with Maven (no OS package exists):
# ship the project's pom so a package user can fetch them (docs/install.md).
if(IDL_BUILD_BACKEND AND EXISTS "${PROJECT_SOURCE_DIR}/scripts/kafka/pom.xml")
  install(FILES "${PROJECT_SOURCE_DIR}/scripts/kafka/pom.xml"
          DESTINATION share/instant-dev-logs/kafka COMPONENT backend)
endif()

# ---- platform bundles: Info.plist, icons, Qt deployment ----------------------------------
if(TARGET idl-console AND (WIN32 OR APPLE))
  if(APPLE)
    # MACOSX_BUNDLE itself is set where the target is created (cmake/IdlHelpers.cmake): the
    # install rule has to know it is a bundle when it is declared.
    set(_idl_icns "${_idl_installer_dir}/macos/idl-console.icns")
    target_sources(idl-console PRIVATE "${_idl_icns}")
    set_source_files_properties("${_idl_icns}" TARGET_DIRECTORY idl-console
      PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
    set_target_properties(idl-console PROPERTIES
      MACOSX_BUNDLE_INFO_PLIST "${_idl_installer_dir}/macos/Info.plist.in"
      MACOSX_BUNDLE_BUNDLE_NAME "Instant Dev Logs"
      MACOSX_BUNDLE_GUI_IDENTIFIER "org.instantdevlogs.Console"
      MACOSX_BUNDLE_ICON_FILE "idl-console.icns"
      MACOSX_BUNDLE_BUNDLE_VERSION "${PROJECT_VERSION}"
      MACOSX_BUNDLE_SHORT_VERSION_STRING "${PROJECT_VERSION}"
      MACOSX_BUNDLE_COPYRIGHT "Instant Dev Logs contributors")
    # The disk image shows the app beside a link to /Applications (drag to install).
    install(CODE "
      if(CMAKE_INSTALL_PREFIX MATCHES \"_CPack_Packages\")
        execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink /Applications
          \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/Applications\")
      endif()" COMPONENT console)
  endif()
  if(WIN32)
    # The .exe's icon: a resource script next to the build, compiled into idl-console.exe.
    set(_idl_rc "${CMAKE_BINARY_DIR}/installer/idl-console.rc")
    file(TO_CMAKE_PATH "${_idl_installer_dir}/windows/idl-console.ico" _idl_ico)
    file(WRITE "${_idl_rc}" "IDI_ICON1 ICON \"${_idl_ico}\"\n")
    target_sources(idl-console PRIVATE "${_idl_rc}")
  endif()

  # windeployqt / macdeployqt at install time (so in every package): Qt libraries, plugins
  # (platforms, styles, imageformats, iconengines) and qt.conf next to the executable.
  if(Qt6_VERSION VERSION_GREATER_EQUAL 6.5)
    qt_generate_deploy_app_script(TARGET idl-console OUTPUT_SCRIPT _idl_deploy_script
      NO_UNSUPPORTED_PLATFORM_ERROR)
  else()
    qt_generate_deploy_app_script(TARGET idl-console FILENAME_VARIABLE _idl_deploy_script
      NO_UNSUPPORTED_PLATFORM_ERROR)
  endif()
  install(SCRIPT "${_idl_deploy_script}" COMPONENT console)

  if(WIN32)
    # Libraries that are not Qt (qtkeychain; simdjson, re2, abseil from vcpkg): windeployqt leaves
    # them out, so copy every DLL idl-console needs from outside the system folders. A DLL
    # found in two folders of PATH (a hosted runner has many) is taken from the first one
    # rather than failing the install.
    install(CODE "
      file(GET_RUNTIME_DEPENDENCIES
        EXECUTABLES \"$<TARGET_FILE:idl-console>\"
        RESOLVED_DEPENDENCIES_VAR _deps
        UNRESOLVED_DEPENDENCIES_VAR _missing
        CONFLICTING_DEPENDENCIES_PREFIX _conflicts
        DIRECTORIES \"$<TARGET_FILE_DIR:idl-console>\" \$ENV{PATH}
        PRE_EXCLUDE_REGEXES \"^api-ms-\" \"^ext-ms-\"
        POST_EXCLUDE_REGEXES \".*[Ss]ystem32/.*\" \".*[Ww]in[Ss]x[Ss]/.*\")
      foreach(_name IN LISTS _conflicts_FILENAMES)
        list(GET _conflicts_\${_name} 0 _first)
        list(APPEND _deps \"\${_first}\")
      endforeach()
      foreach(_dll IN LISTS _deps)
        file(INSTALL \"\${_dll}\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/bin\")
      endforeach()" COMPONENT console)
    # The MSVC runtime (vcruntime140.dll, msvcp140.dll, ...) next to the executable, so the
    # console starts on a machine without the Visual C++ redistributable.
    set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION bin)
    set(CMAKE_INSTALL_SYSTEM_RUNTIME_COMPONENT console)
    include(InstallRequiredSystemLibraries)
  endif()
endif()

include(CPack)

cpack_add_component(console
  DISPLAY_NAME "Desktop console"
  DESCRIPTION "idl-console: live tail, queries, charts, saved queries and CSV export")
cpack_add_component(backend
  DISPLAY_NAME "Server"
  DESCRIPTION "Collector, processor, writer, gateway, idl-admin and idl-stack (a one-box cluster)")
