# Shared CMake helpers: warnings, tests, LibTorch version.

# Warnings for every project target; errors when HP_WERROR (CI) is on.
function(hp_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra $<$<BOOL:${HP_WERROR}>:-Werror>>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra $<$<BOOL:${HP_WERROR}>:-Werror=all-warnings>>)
endfunction()

# One GoogleTest executable per test folder: hp_add_test(NAME SOURCES... LIBS ...).
function(hp_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE hp_test_support ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  hp_warnings(${name})
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "HP_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data"
    DISCOVERY_TIMEOUT 120)
endfunction()

# Major version of the LibTorch found (1 for Debian's 1.13, 2 for 2.x).
function(hp_torch_version out)
  if(DEFINED Torch_VERSION AND NOT Torch_VERSION STREQUAL "")
    string(REGEX MATCH "^[0-9]+" major "${Torch_VERSION}")
  else()
    set(major 1)
    foreach(dir ${TORCH_INCLUDE_DIRS})
      if(EXISTS "${dir}/torch/csrc/api/include/torch/version.h")
        file(STRINGS "${dir}/torch/csrc/api/include/torch/version.h" line REGEX "define TORCH_VERSION_MAJOR")
        string(REGEX MATCH "[0-9]+" major "${line}")
      endif()
    endforeach()
  endif()
  set(${out} ${major} PARENT_SCOPE)
endfunction()

# hp_find_dep(NAME PC <pkg-config module> HEADER <header> NAMES <library names>
#             [SUFFIXES <sub-folders of include/lib dirs>]): target
# hp_dep_NAME from pkg-config when it is there, else from find_path/find_library (the GPU
# machine's carried sysroot has the libraries but not every .pc file they require).
function(hp_find_dep name)
  cmake_parse_arguments(ARG "" "PC;HEADER" "NAMES;SUFFIXES" ${ARGN})
  add_library(hp_dep_${name} INTERFACE)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_${name} QUIET IMPORTED_TARGET GLOBAL ${ARG_PC})
    if(PC_${name}_FOUND)
      target_link_libraries(hp_dep_${name} INTERFACE PkgConfig::PC_${name})
      return()
    endif()
  endif()
  find_path(HP_${name}_INCLUDE_DIR ${ARG_HEADER} PATH_SUFFIXES ${ARG_SUFFIXES})
  find_library(HP_${name}_LIBRARY NAMES ${ARG_NAMES} PATH_SUFFIXES ${ARG_SUFFIXES})
  if(NOT HP_${name}_INCLUDE_DIR OR NOT HP_${name}_LIBRARY)
    message(FATAL_ERROR "${ARG_PC} not found (header ${ARG_HEADER}, library ${ARG_NAMES}): "
                        "run scripts/setup.sh")
  endif()
  target_include_directories(hp_dep_${name} SYSTEM INTERFACE ${HP_${name}_INCLUDE_DIR})
  target_link_libraries(hp_dep_${name} INTERFACE ${HP_${name}_LIBRARY})
endfunction()
