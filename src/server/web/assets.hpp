// The dashboard's files, embedded into vigild at build time (web.cmake, embed.cmake): vigild is
// one binary that serves its web UI without network access or files beside it.
#ifndef VIGIL_SERVER_WEB_ASSETS_HPP_
#define VIGIL_SERVER_WEB_ASSETS_HPP_

#include <cstddef>
#include <span>

namespace vigil::server::web {

struct Asset {
  const char* path;          // "/index.html", "/assets/app-5KD3A2.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const char* etag;          // quoted: "\"0af3…\"" (a prefix of the content's SHA-256)
  const unsigned char* data;
  std::size_t size;
};

// Every embedded file (generated). There is always an "/index.html": the dashboard, or a page
// saying it was not built.
std::span<const Asset> assets() noexcept;

}  // namespace vigil::server::web

#endif  // VIGIL_SERVER_WEB_ASSETS_HPP_
