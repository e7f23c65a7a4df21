// Where in a URL an input found by chance cannot have chosen the destination: shared by the
// SSRF and the open-redirect detectors, which judge the same URL parts.
#ifndef VIGIL_CORE_DETECT_URL_SPANS_HPP_
#define VIGIL_CORE_DETECT_URL_SPANS_HPP_

#include <cstdint>
#include <string_view>

#include "core/tokenize/url/url_parser.hpp"

namespace vigil::detect {

// Whether the input at [b, e) of `text` (parsed as `u`) only filled part of the scheme or the
// host the application wrote, so that it cannot have chosen where the URL goes:
//  * it holds only letters and digits, lies inside the scheme as written, and the scheme is
//    http, https, ws or wss: the application wrote the rest of the scheme, its "://" and the
//    host ("ps" or "https" in the application's "https://shop.example.com");
//  * it lies strictly inside the host and holds only characters that cannot end, split or
//    re-read it (letters, digits and sub-delimiters), so replacing it with a placeholder leaves
//    the same structure around it;
//  * or it holds only letters, digits and '-', ends the host and begins inside its last label
//    when what the application wrote of that label is not yet a whole domain ("om" in the
//    application's "example.com", "host" in its "localhost"). After a whole domain or machine
//    name ("example.com" + "dir") it extends a host that was complete, and is not inert.
bool inert_in_origin(std::string_view text, const tokenize::url::Url& u, std::uint32_t b,
                     std::uint32_t e) noexcept;

}  // namespace vigil::detect

#endif  // VIGIL_CORE_DETECT_URL_SPANS_HPP_
