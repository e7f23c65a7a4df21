// vigild serves the dashboard (docs/dashboard.md) at `/`, beside the API under /api/v1:
// index.html for each page of the single-page application, and its content-hashed assets.
#ifndef VIGIL_SERVER_WEB_DASHBOARD_HPP_
#define VIGIL_SERVER_WEB_DASHBOARD_HPP_

#include <vector>

#include "server/http/router.hpp"

namespace vigil::server::web {

// Public GET routes (the page itself needs no credential; its data comes from the API, which
// does): "/", the client-side pages ("/incidents/{id}", …) answered with index.html, and
// "/assets/{file}". Assets are cached for a year (their names change with their content);
// index.html is revalidated (ETag) on every load. Every answer is under a strict
// Content-Security-Policy: the page loads nothing but vigild's own files.
void add_dashboard_routes(std::vector<http::Route>* routes);

}  // namespace vigil::server::web

#endif  // VIGIL_SERVER_WEB_DASHBOARD_HPP_
