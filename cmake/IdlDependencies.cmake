# Third-party dependencies, found once for the whole tree. On Linux every one comes from the
# OS packages that scripts/bootstrap installs. On Windows (vcpkg) and macOS (Homebrew) only the
# console is built (-DIDL_BUILD_BACKEND=OFF, .github/workflows/console-packages.yml): it needs
# Qt, qtkeychain, simdjson and re2, nothing else (docs/install.md, "Windows and macOS packages").
include_guard(GLOBAL)

find_package(Threads REQUIRED)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  find_package(PkgConfig REQUIRED)
else()
  find_package(PkgConfig QUIET)
endif()

# idl_find_pkg(VAR MODULE PACKAGE TARGET...): the imported target PkgConfig::VAR for a library
# that Debian ships with a pkg-config file only. On Linux exactly pkg_check_modules(REQUIRED).
# Elsewhere the library's own CMake package comes first (vcpkg and Homebrew install one) and
# PkgConfig::VAR is an interface target over the first of TARGET... it defines; pkg-config
# is the fallback there.
macro(idl_find_pkg var module package)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    pkg_check_modules(${var} REQUIRED IMPORTED_TARGET ${module})
  else()
    find_package(${package} CONFIG QUIET)
    set(_idl_pkg_target "")
    foreach(_idl_t ${ARGN})
      if(NOT _idl_pkg_target AND TARGET ${_idl_t})
        set(_idl_pkg_target ${_idl_t})
      endif()
    endforeach()
    if(_idl_pkg_target)
      add_library(PkgConfig::${var} INTERFACE IMPORTED GLOBAL)
      target_link_libraries(PkgConfig::${var} INTERFACE ${_idl_pkg_target})
      message(STATUS "${module}: CMake package ${package} (${_idl_pkg_target})")
    elseif(PkgConfig_FOUND)
      pkg_check_modules(${var} REQUIRED IMPORTED_TARGET ${module})
    else()
      message(FATAL_ERROR "${module} not found: install it with vcpkg or Homebrew (CMake "
                          "package ${package}) or provide pkg-config and ${module}.pc")
    endif()
  endif()
endmacro()

set(_idl_qt_components Core Network WebSockets)
if(IDL_BUILD_TESTS)
  list(APPEND _idl_qt_components Test)
endif()
if(IDL_BUILD_CONSOLE)
  list(APPEND _idl_qt_components Gui Widgets Charts)
endif()
find_package(Qt6 6.4 REQUIRED COMPONENTS ${_idl_qt_components})
qt_standard_project_setup()
set(CMAKE_AUTOMOC ON)

# shared/ (core, query), so the console as well.
find_package(simdjson REQUIRED)
idl_find_pkg(RE2 re2 re2 re2::re2)
if(IDL_BUILD_BACKEND)
  # The services and their tests only.
  find_package(OpenSSL REQUIRED)
  find_package(ZLIB REQUIRED)
  pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
  idl_find_pkg(ZSTD libzstd zstd zstd::libzstd_shared zstd::libzstd_static zstd::libzstd)
  find_package(Boost 1.74 REQUIRED)
  # OTLP protobuf and gRPC ingestion (shared/otlp: .proto files compiled at build time).
  find_package(Protobuf REQUIRED)
  find_package(gRPC CONFIG REQUIRED)
endif()
if(IDL_BUILD_CONSOLE)
  find_package(Qt6Keychain REQUIRED)
endif()
