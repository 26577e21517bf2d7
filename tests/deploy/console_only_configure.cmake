# test_console_only_configure: configures the tree as the Windows/macOS package builds do
# (-DIDL_BUILD_BACKEND=OFF, tests on) in a fresh folder. Fails when the console or what it
# links (shared/, its tests) starts to need a backend library or target: find_package errors
# and links to missing targets (idl::pg, PkgConfig::RDKAFKA, ...) both stop the configure.
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=... -P console_only_configure.cmake
foreach(var SOURCE_DIR BINARY_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "console_only_configure.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${BINARY_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
          -DIDL_BUILD_BACKEND=OFF -DIDL_BUILD_CONSOLE=ON -DIDL_BUILD_TESTS=ON
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message("${output}")
  message(FATAL_ERROR "the console-only configuration (-DIDL_BUILD_BACKEND=OFF) failed")
endif()
# What must (not) be there: the console and its unit tests, no backend service.
set(_ninja "${BINARY_DIR}/build.ninja")
if(EXISTS "${_ninja}")
  file(READ "${_ninja}" _rules)
  foreach(expected "bin/idl-console" "tests/test_console_models" "tests/test_protocol")
    string(FIND "${_rules}" "${expected}" _at)
    if(_at LESS 0)
      message(FATAL_ERROR "console-only configuration: ${expected} is not built")
    endif()
  endforeach()
  foreach(unexpected "bin/idl-collector" "bin/idl-gateway" "bin/idl-stack")
    string(FIND "${_rules}" "${unexpected}" _at)
    if(NOT _at LESS 0)
      message(FATAL_ERROR "console-only configuration: ${unexpected} is built without the backend")
    endif()
  endforeach()
endif()
message(STATUS "console-only configuration: ok (${BINARY_DIR})")
