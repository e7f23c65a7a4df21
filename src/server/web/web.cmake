# The dashboard (web/, docs/dashboard.md): built with npm + esbuild into the build tree, then
# embedded into vigild as byte arrays (embed.cmake). Without node/npm, or with
# -DVIGIL_DASHBOARD=OFF, vigild embeds a page saying the dashboard was not built.
option(VIGIL_DASHBOARD "Build the web dashboard (needs node and npm)" ON)
set(VIGIL_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
set(VIGIL_WEB_GEN ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cpp)
set(VIGIL_WEB_EMBED ${CMAKE_CURRENT_LIST_DIR}/embed.cmake)
find_program(VIGIL_NODE node)
find_program(VIGIL_NPM npm)

if(VIGIL_DASHBOARD AND VIGIL_NODE AND VIGIL_NPM)
  set(VIGIL_WEB_DIST ${CMAKE_CURRENT_BINARY_DIR}/web-dist)
  set(VIGIL_WEB_STAMP ${CMAKE_CURRENT_BINARY_DIR}/web-npm.stamp)
  # Always checked (cheap); runs npm ci only when node_modules is missing or stale.
  add_custom_target(vigil_web_npm
    COMMAND ${CMAKE_COMMAND} -DNPM=${VIGIL_NPM} -DWEB=${VIGIL_WEB_DIR} -DSTAMP=${VIGIL_WEB_STAMP}
            -P ${CMAKE_CURRENT_LIST_DIR}/npm_ci.cmake
    BYPRODUCTS ${VIGIL_WEB_STAMP}
    COMMENT "dashboard: npm packages"
    VERBATIM)
  file(GLOB_RECURSE VIGIL_WEB_SOURCES CONFIGURE_DEPENDS ${VIGIL_WEB_DIR}/src/*)
  add_custom_command(OUTPUT ${VIGIL_WEB_GEN}
    COMMAND ${VIGIL_NODE} ${VIGIL_WEB_DIR}/build.mjs --outdir ${VIGIL_WEB_DIST}
    COMMAND ${CMAKE_COMMAND} -DDIR=${VIGIL_WEB_DIST} -DOUT=${VIGIL_WEB_GEN} -P ${VIGIL_WEB_EMBED}
    DEPENDS ${VIGIL_WEB_SOURCES} ${VIGIL_WEB_DIR}/build.mjs ${VIGIL_WEB_DIR}/package-lock.json
            ${VIGIL_WEB_STAMP} ${VIGIL_WEB_EMBED} vigil_web_npm
    COMMENT "dashboard: esbuild, then embed into vigild"
    VERBATIM)
  set(VIGIL_DASHBOARD_BUILT ON)
else()
  if(VIGIL_DASHBOARD)
    message(WARNING "node or npm not found: vigild will serve a page saying the dashboard was "
                    "not built (scripts/install-deps installs them)")
  endif()
  set(VIGIL_WEB_FALLBACK ${CMAKE_CURRENT_BINARY_DIR}/web-not-built)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/not_built.html ${VIGIL_WEB_FALLBACK}/index.html COPYONLY)
  add_custom_command(OUTPUT ${VIGIL_WEB_GEN}
    COMMAND ${CMAKE_COMMAND} -DDIR=${VIGIL_WEB_FALLBACK} -DOUT=${VIGIL_WEB_GEN} -P ${VIGIL_WEB_EMBED}
    DEPENDS ${VIGIL_WEB_FALLBACK}/index.html ${VIGIL_WEB_EMBED}
    VERBATIM)
  set(VIGIL_DASHBOARD_BUILT OFF)
endif()
target_sources(vigil_server PRIVATE ${VIGIL_WEB_GEN})
