# Warnings on, treated as errors; sanitizers by option.
add_library(ferry_warnings INTERFACE)
# GCC 12 false positives at -O2: -Wmismatched-new-delete on Asio coroutine
# frames, -Wmaybe-uninitialized on std::variant inside coroutine frames.
target_compile_options(ferry_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter
                       -Wno-mismatched-new-delete -Wno-maybe-uninitialized)
if(FERRY_WERROR)
  target_compile_options(ferry_warnings INTERFACE -Werror)
endif()
if(FERRY_SANITIZE)
  add_compile_options(-fsanitize=${FERRY_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${FERRY_SANITIZE})
  if(FERRY_SANITIZE MATCHES "undefined")
    # Undefined behaviour fails the test instead of printing and going on.
    add_compile_options(-fno-sanitize-recover=all)
  endif()
  if(FERRY_SANITIZE MATCHES "thread")
    # GCC warns that TSan does not model std::atomic_thread_fence, which
    # Boost.Asio's executor reference counts use; tests/sanitizers/tsan.supp
    # covers what that leaves unmodelled.
    add_compile_options(-Wno-tsan)
  endif()
endif()

# ferry_target(NAME) applies the project's common settings to a target.
function(ferry_target name)
  target_link_libraries(${name} PRIVATE ferry_warnings)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# ferry_library(NAME GLOBS <patterns...> DEPS <targets...>)
# A static library from the sources the patterns match (an INTERFACE target
# while a module has no sources yet, so the tree always configures).
function(ferry_library name)
  cmake_parse_arguments(ARG "" "" "GLOBS;DEPS" ${ARGN})
  set(srcs)
  foreach(pattern IN LISTS ARG_GLOBS)
    file(GLOB found CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${pattern})
    list(APPEND srcs ${found})
  endforeach()
  if(srcs)
    add_library(${name} STATIC ${srcs})
    ferry_target(${name})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()
