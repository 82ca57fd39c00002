# Runs bpftool with ARGS (a |-separated list) and writes its output to OUTPUT:
# `bpftool btf dump ... format c` and `bpftool gen skeleton` print to stdout.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${BPFTOOL} ${args} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "bpftool ${args} failed (${rc})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
