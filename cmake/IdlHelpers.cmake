# Helpers that give every component the same shape.
#
#   idl_add_library(NAME SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
#     -> static library idl_NAME with alias idl::NAME, public headers in include/
#   idl_add_executable(NAME SOURCES ... [LIBS ...] [COMPONENT backend|console] [NO_INSTALL])
#   idl_add_test(NAME SOURCES ... [LIBS ...] LABELS unit|integration|console|bench|e2e [TIMEOUT s])
#     Benchmarks (label bench) are excluded from the default run: ctest -LE bench

include_guard(GLOBAL)

add_library(idl_options INTERFACE)
add_library(idl::options ALIAS idl_options)
target_compile_features(idl_options INTERFACE cxx_std_20)
target_compile_definitions(idl_options INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_CONTEXTLESS_CONNECT QT_USE_QSTRINGBUILDER QT_NO_KEYWORDS
  IDL_VERSION="${PROJECT_VERSION}")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  # -Wshadow=local is GCC's spelling; Clang (AppleClang on macOS) has its own.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(_idl_shadow -Wshadow=local)
  else()
    set(_idl_shadow -Wshadow-uncaptured-local)
  endif()
  target_compile_options(idl_options INTERFACE -Wall -Wextra -Wpedantic ${_idl_shadow}
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(IDL_WERROR)
    target_compile_options(idl_options INTERFACE -Werror)
  endif()
elseif(MSVC)
  target_compile_options(idl_options INTERFACE /W4 /permissive- /utf-8)
  if(IDL_WERROR)
    target_compile_options(idl_options INTERFACE /WX)
  endif()
endif()

function(idl_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  # Public headers are listed too, so AUTOMOC sees the Q_OBJECT classes declared there.
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/include/*.h)
  add_library(idl_${name} STATIC ${A_SOURCES} ${_headers})
  add_library(idl::${name} ALIAS idl_${name})
  target_include_directories(idl_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(idl_${name} PUBLIC ${A_PUBLIC_LIBS} PRIVATE idl::options ${A_PRIVATE_LIBS})
  set_target_properties(idl_${name} PROPERTIES AUTOMOC ON POSITION_INDEPENDENT_CODE ON)
endfunction()

function(idl_add_executable name)
  cmake_parse_arguments(A "NO_INSTALL" "COMPONENT" "SOURCES;LIBS" ${ARGN})
  if(NOT A_COMPONENT)
    set(A_COMPONENT backend)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE idl::options ${A_LIBS})
  set_target_properties(${name} PROPERTIES AUTOMOC ON
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
  if(A_COMPONENT STREQUAL "console")
    # A GUI app: an .app bundle on macOS, no console window on Windows (installer/).
    set_target_properties(${name} PROPERTIES MACOSX_BUNDLE ON WIN32_EXECUTABLE ON)
  endif()
  if(NOT A_NO_INSTALL)
    install(TARGETS ${name} RUNTIME DESTINATION bin COMPONENT ${A_COMPONENT}
                            BUNDLE DESTINATION . COMPONENT ${A_COMPONENT})
  endif()
endfunction()

# Tests: one executable each; TIMEOUT defaults by label. RESOURCE_LOCK serialises tests that
# start real servers, so two JVMs never fight for the two cores.
function(idl_add_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE idl::options ${A_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  set_target_properties(${name} PROPERTIES AUTOMOC ON
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} ${A_ARGS})
  set(timeout 60)
  if("integration" IN_LIST A_LABELS OR "e2e" IN_LIST A_LABELS OR "console" IN_LIST A_LABELS)
    set(timeout 600)
  endif()
  if("bench" IN_LIST A_LABELS)
    set(timeout 1800)
  endif()
  if(A_TIMEOUT)
    set(timeout ${A_TIMEOUT})
  endif()
  if(IDL_SANITIZERS)
    # ASan + UBSan make the code 2-3x slower (CMakePresets.json asan-ubsan).
    math(EXPR timeout "${timeout} * 3")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${timeout}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;IDL_BIN_DIR=${PROJECT_BINARY_DIR}/bin;IDL_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(NOT "unit" IN_LIST A_LABELS)
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK real_servers)
  endif()
endfunction()
