# Man pages from the one text that documents each command: help2man turns
# its --help output (options, usage, commands) into a page, and
# man/NAME.h2m adds what --help cannot say (description, configuration
# file, signals, exit status, files). Included from CMakeLists.txt after
# the binaries are defined; sets DROPSCOPE_MAN_PAGES to the pages it will
# build (empty without help2man).
#
# The version comes from the project, not from `--version`: that one adds
# `git describe` (with "-dirty" in a working tree), and a page should be the
# same whichever checkout it was built in. The date is help2man's, which
# takes SOURCE_DATE_EPOCH when set (Debian's builds set it).
find_program(HELP2MAN help2man)
set(DROPSCOPE_MAN_PAGES "")
if(NOT HELP2MAN)
  message(STATUS "man pages: off (help2man not found: apt-get install help2man, "
                 "or deploy/install-deps.sh)")
  return()
endif()
set(MAN_OUT ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${MAN_OUT})
foreach(cmd dropscope dropscope-collector dropscope-aggregator)
  set(page ${MAN_OUT}/${cmd}.1)
  set(include ${CMAKE_SOURCE_DIR}/man/${cmd}.h2m)
  add_custom_command(
    OUTPUT ${page}
    # LC_ALL=C: help2man translates its own words ("Usage", "or") by locale.
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${HELP2MAN} --no-info --section=1
            --version-string=${PROJECT_VERSION} --include=${include} --output=${page}
            $<TARGET_FILE:${cmd}>
    DEPENDS ${cmd} ${include}
    VERBATIM
    COMMENT "help2man ${cmd}.1")
  list(APPEND DROPSCOPE_MAN_PAGES ${page})
endforeach()
add_custom_target(man ALL DEPENDS ${DROPSCOPE_MAN_PAGES})
message(STATUS "man pages: ${MAN_OUT}/*.1 (help2man)")
