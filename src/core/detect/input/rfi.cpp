// Remote file inclusion attempts: a value that makes a server-side include (PHP include/require
// with allow_url_include, an SSI or template loader) fetch code from another host.
//
// Values carry links all the time (a Referer, a shared article, a homepage field), so a remote
// URL alone convicts nothing. The value is read with the units of url_values.hpp, and a unit that
// is a remote URL (http:, https:, ftp:, or scheme-relative "//host") is convicted when what ends
// or surrounds it is the shape of an inclusion:
//
//  - a neutraliser after the file: a trailing '?' (or "??", "?&...") turns the suffix the
//    including code appends (".php", "/lang.inc") into a query string, a NUL ("%00") cuts it
//    off: "http://evil.example/shell.txt?";
//  - a query on a plain-text or image file ("shell.txt?cmd=id"): no server reads one, the
//    included code does;
//  - a file named like a well-known web shell (c99, r57, wso, b374k, shell, backdoor ...);
//  - the URL is a parameter the value writes into a request target: of a server-side script
//    ("/modules/x/index.php?main=http://...") unless the parameter is one that shares links
//    (url, link, href ...), or of any path when the URL names an includable file (.txt, .inc,
//    .php ...): an input whose value is itself a request carrying a URL is an attack shape,
//    not something a person types.
//
// Stream wrappers that carry code with no host count too: data: with text/plain or base64
// content, php://input, expect://.
#include <algorithm>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/detect/input/url_values.hpp"

namespace vigil::detect::input {
namespace {

namespace url = vigil::tokenize::url;
using urlv::UnitKind;
using urlv::UrlUnit;

template <std::size_t N>
bool in_list(std::string_view s, const std::string_view (&list)[N]) noexcept {
  for (std::string_view k : list)
    if (common::iequals(s, k)) return true;
  return false;
}

// Suffixes of server-side scripts (what takes the include parameter).
bool script_suffix(std::string_view ext) noexcept {
  static constexpr std::string_view kExt[] = {
      "php", "php3", "php4", "php5", "php7", "phtml", "phps", "inc",   "asp",  "aspx",
      "ascx", "jsp", "jspx", "do",   "action", "cfm",  "cgi",  "pl",  "py",   "exe",
      "dll",  "shtml",
  };
  return in_list(ext, kExt);
}

// Suffixes of files an include would execute or that disguise code as data.
bool includable_suffix(std::string_view ext) noexcept {
  static constexpr std::string_view kExt[] = {
      "txt", "text", "inc", "php", "php3", "php4", "php5", "php7", "phtml", "phps", "pl", "py",
      "sh",  "cgi",  "asp", "aspx", "jsp", "gif", "jpg",  "jpeg", "png", "bmp",   "ico", "dat",
      "log", "tmp",  "src",
  };
  return in_list(ext, kExt);
}

// Suffixes of text files a server sends as they are: a query string on them is read by nobody
// but code that includes them. (Images are left out: image URLs carry resizing queries.)
bool static_suffix(std::string_view ext) noexcept {
  static constexpr std::string_view kExt[] = {"txt", "text", "dat", "log", "tmp", "src", "inc"};
  return in_list(ext, kExt);
}

bool shell_name(std::string_view stem) noexcept {
  static constexpr std::string_view kNames[] = {
      "shell", "c99", "c99shell", "r57", "r57shell", "c100", "wso", "wso2", "b374k",
      "webshell", "backdoor", "phpshell", "cmdshell", "r00t", "kacak", "sh3ll", "idx",
  };
  return in_list(stem, kNames);
}

// The last segment of a path and its suffix.
void split_file(std::string_view path, std::string_view* file, std::string_view* stem,
                std::string_view* ext) noexcept {
  std::size_t slash = path.find_last_of("/\\");
  *file = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::size_t dot = file->rfind('.');
  if (dot == std::string_view::npos || dot == 0 || file->size() - dot > 7) {
    *stem = *file;
    *ext = {};
    return;
  }
  *stem = file->substr(0, dot);
  *ext = file->substr(dot + 1);
}

struct Ctx {
  const Candidate* c;
  Hit* hit;
};

bool convict(Ctx* x, const UrlUnit& u, const std::string& reason) {
  x->hit->reason = urlv::unit_place(*x->c, u) + " " + reason;
  x->hit->evidence = evidence(u.text);
  return true;
}

// Wrappers that hand code to an include without a host.
bool judge_wrapper(Ctx* x, const UrlUnit& u, std::string_view scheme, std::string_view rest) {
  if (scheme == "data") {
    if (rest.size() >= 2 && rest[0] == '/' && rest[1] == '/') rest.remove_prefix(2);
    std::size_t comma = rest.find(',');
    if (comma == std::string_view::npos) return false;
    std::string_view media = rest.substr(0, comma);
    const bool code_type = common::istarts_with(media, "text/plain") ||
                           urlv::contains_nocase(media, "php");
    const bool base64 = urlv::contains_nocase(media, ";base64");
    const bool php_tag = rest.find("<?") != std::string_view::npos;
    if ((code_type && (base64 || php_tag)) || (base64 && media.size() <= 8) || php_tag)
      return convict(x, u, "is a data: URL whose content an include would run as code");
    return false;
  }
  if (scheme == "php" && common::istarts_with(rest, "//input"))
    return convict(x, u, "is php://input: an include of it runs the request body as code");
  if (scheme == "expect" && common::istarts_with(rest, "//"))
    return convict(x, u, "is an expect:// URL: opening it runs a command");
  return false;
}

bool judge(const UrlUnit& u, void* ctx) {
  Ctx* x = static_cast<Ctx*>(ctx);
  if (u.kind == UnitKind::kPage || u.text.size() < 8) return false;
  char start_buf[16];
  std::string_view start_scheme;
  switch (urlv::url_start(u.text, start_buf, &start_scheme)) {
    case urlv::Start::kScheme:
      if (start_scheme != "http" && start_scheme != "https" && start_scheme != "ftp" &&
          start_scheme != "ftps" && start_scheme != "data" && start_scheme != "php" &&
          start_scheme != "expect")
        return false;
      break;
    case urlv::Start::kSlash:
      break;
    case urlv::Start::kOther:
      return false;
  }
  urlv::Head h;
  urlv::read_head(u.text, &h);
  const std::string_view head = h.view();
  char scheme_buf[16];
  std::size_t after = 0;
  const std::string_view scheme = urlv::scheme_of(head, scheme_buf, &after);
  std::size_t slashes = 0;
  const url::Url* base = nullptr;
  if (!scheme.empty()) {
    if (scheme == "data" || scheme == "php" || scheme == "expect")
      return judge_wrapper(x, u, scheme, head.substr(after));
    if (scheme != "http" && scheme != "https" && scheme != "ftp" && scheme != "ftps")
      return false;
    slashes = urlv::count_slashes(head, after);
    if (slashes < 2) return false;
  } else {
    slashes = urlv::count_slashes(head, 0);
    if (slashes < 2) return false;
    base = &urlv::http_base();
  }
  if (urlv::has_space(u.text)) return false;
  const std::string_view authority = urlv::authority_at(head, after + slashes);
  if (!urlv::host_like(authority)) return false;
  url::Url parsed;
  if (!url::parse_url(u.text, base, &parsed) || parsed.authority_from_base) return false;

  std::string_view path = urlv::span_text(u.text, parsed.path_span);
  // A NUL (raw or "%00", which the parser keeps in the path) cuts off the suffix an include
  // appends: the file is what comes before it.
  const std::size_t nul = std::min(path.find('\0'), path.find("%00"));
  const std::string_view tail =
      u.text.substr(std::min<std::size_t>(parsed.path_span.end, u.text.size()));
  const bool nul_cut = nul != std::string_view::npos ||
                       u.text.find('\0') != std::string_view::npos ||
                       (tail.size() >= 4 && tail.substr(1, 3) == "%00");
  if (nul != std::string_view::npos) path = path.substr(0, nul);
  std::string_view file, stem, ext;
  split_file(path, &file, &stem, &ext);
  const std::string host = urlv::host_text(parsed.host);
  const std::string what = "is a URL to " + std::string(file.substr(0, 60)) + " on " + host;

  if (nul_cut && !file.empty())
    return convict(x, u, what + " followed by a NUL byte, which cuts off the suffix an "
                                "include appends");
  // A request target written in the value, with the URL as one of its parameters.
  if (u.kind == UnitKind::kParam) {
    const std::string_view target_path = u.target.substr(0, u.target.find('?'));
    std::string_view tfile, tstem, text;
    split_file(target_path, &tfile, &tstem, &text);
    if (!text.empty() && script_suffix(text) && !urlv::is_link_name(u.name))
      return convict(x, u, what + ", passed to the script " + std::string(tfile.substr(0, 60)) +
                               " as its parameter " + std::string(u.name.substr(0, 40)) +
                               ", the shape of a remote file inclusion");
  }
  if (!ext.empty() && includable_suffix(ext)) {
    if (parsed.query_span.present) {
      const std::string_view query = urlv::span_text(u.text, parsed.query_span);
      if (query.empty() || query[0] == '?' || query[0] == '&')
        return convict(x, u, what + " ending in '?', which turns the suffix an include "
                                    "appends into a query string");
      if (static_suffix(ext))
        return convict(x, u, what + " with the query " + std::string(query.substr(0, 40)) +
                                 ", which only code that includes the file would read");
    }
    if (shell_name(stem))
      return convict(x, u, what + ", named like a web shell");
  }
  if (u.kind != UnitKind::kParam) return false;
  const bool path_target = u.target.empty() || u.target[0] == '/' || u.target[0] == '?';
  if (path_target && !ext.empty() && includable_suffix(ext))
    return convict(x, u, what + ", passed as a parameter of the request target " +
                             std::string(u.target.substr(0, 60)) + " written in the value");
  return false;
}

}  // namespace

bool detect_rfi(const Candidate& c, Hit* hit) {
  Ctx ctx{&c, hit};
  return urlv::walk_units(c, &judge, &ctx);
}

}  // namespace vigil::detect::input
