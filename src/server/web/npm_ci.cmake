# Runs `npm ci` in WEB when node_modules is missing or older than package-lock.json, and then
# touches STAMP (so that the dashboard is rebuilt). Quick when nothing changed.
#   cmake -DNPM=... -DWEB=... -DSTAMP=... -P npm_ci.cmake
set(installed ${WEB}/node_modules/.package-lock.json)
if(EXISTS ${installed} AND NOT ${WEB}/package-lock.json IS_NEWER_THAN ${installed}
   AND EXISTS ${STAMP})
  return()
endif()
if(NOT EXISTS ${installed} OR ${WEB}/package-lock.json IS_NEWER_THAN ${installed})
  message(STATUS "dashboard: npm ci in ${WEB}")
  execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY ${WEB} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "dashboard: npm ci failed (${rc}); the npm registry must be reachable "
                        "once, or configure with -DVIGIL_DASHBOARD=OFF")
  endif()
endif()
file(TOUCH ${STAMP})
