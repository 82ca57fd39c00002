# Writes OUTPUT, a header defining DROPSCOPE_VERSION: the project's VERSION,
# followed by `git describe` when SOURCE is a git checkout with git on the
# PATH ("0.2.0 (v0.2.0-14-gabc1234-dirty)"). Run at every build with
# cmake -P; the file is rewritten only when the text changes, so a build
# with nothing new recompiles nothing.
#   cmake -DVERSION=0.2.0 -DSOURCE=dir -DOUTPUT=version.h -P version.cmake
set(text "${VERSION}")
find_program(GIT git)
if(GIT AND EXISTS "${SOURCE}/.git")
  execute_process(COMMAND ${GIT} -C "${SOURCE}" describe --always --dirty --tags
                  OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND described)
    set(text "${VERSION} (${described})")
  endif()
endif()
set(content "#define DROPSCOPE_VERSION \"${text}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUTPUT}" "${content}")
endif()
