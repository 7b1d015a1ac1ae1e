# Writes version.h with the project version and the git commit; rewrites the
# file only when its content changes so nothing rebuilds needlessly.
execute_process(COMMAND git -C ${SRC} rev-parse HEAD
  OUTPUT_VARIABLE COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR COMMIT STREQUAL "")
  set(COMMIT "unknown")
endif()
execute_process(COMMAND git -C ${SRC} status --porcelain --untracked-files=no
  OUTPUT_VARIABLE DIRTY OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DIRTY STREQUAL "")
  set(COMMIT "${COMMIT}-dirty")
endif()
set(CONTENT "#pragma once\n#define BERTH_VERSION \"${VERSION}\"\n#define BERTH_GIT_COMMIT \"${COMMIT}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} OLD)
endif()
if(NOT "${OLD}" STREQUAL "${CONTENT}")
  file(WRITE ${OUT} "${CONTENT}")
endif()
