// Request-level signals: scanner and attack-tool fingerprints, probes for files that should
// never be served, and malformed protocol use. These are `suspicious`: context for an
// incident, not alerts on their own.
#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "vigil/request.hpp"

namespace vigil::detect::input {
namespace {

// A case-insensitive search for many needles (of two bytes or more) in one pass: a table of the
// needles' first two (lower-case) bytes says where one could start, so each position of the
// text costs one table load unless a needle could start there. Every request's User-Agent and path go through this, so it must stay cheap.
template <std::size_t N>
class NeedleSet {
 public:
  explicit NeedleSet(const std::string_view (&needles)[N]) : needles_(needles) {
    for (std::size_t i = 0; i < N; ++i) {
      pairs_[pair(needles[i][0], needles[i][1])] = true;
      by_pair_[i] = {static_cast<std::uint16_t>(pair(needles[i][0], needles[i][1])),
                     static_cast<std::uint16_t>(i)};
    }
    std::sort(by_pair_.begin(), by_pair_.end());
  }
  // The first needle (in list order among those found at the earliest position) or npos.
  std::size_t find(std::string_view hay) const noexcept {
    for (std::size_t i = 0; i + 1 < hay.size(); ++i) {
      const std::size_t p = pair(hay[i], hay[i + 1]);
      if (!pairs_[p]) continue;
      // Only the needles that start with this pair (sorted by pair, then list order).
      std::string_view rest = hay.substr(i);
      auto it = std::lower_bound(by_pair_.begin(), by_pair_.end(),
                                 Entry{static_cast<std::uint16_t>(p), 0});
      for (; it != by_pair_.end() && it->pair == p; ++it) {
        std::string_view n = needles_[it->index];
        if (n.size() <= rest.size() && common::iequals(rest.substr(0, n.size()), n))
          return it->index;
      }
    }
    return std::string_view::npos;
  }

 private:
  struct Entry {
    std::uint16_t pair, index;
    bool operator<(const Entry& o) const noexcept {
      return pair != o.pair ? pair < o.pair : index < o.index;
    }
  };
  static constexpr std::size_t pair(char a, char b) noexcept {
    return static_cast<unsigned char>(common::to_lower(a)) << 8 |
           static_cast<unsigned char>(common::to_lower(b));
  }
  const std::string_view (&needles_)[N];
  std::bitset<65536> pairs_;
  std::array<Entry, N> by_pair_{};
};

// Attack tools that announce themselves in User-Agent (most do by default).
constexpr std::string_view kToolAgents[] = {
    "sqlmap",   "nikto",     "nmap",     "masscan",   "zgrab",      "wpscan",    "dirbuster",
    "gobuster", "feroxbuster", "ffuf",   "nuclei",    "acunetix",   "nessus",    "openvas",
    "w3af",     "wapiti",    "arachni",  "skipfish",  "havij",      "commix",    "netsparker",
    "appscan",  "jaeles",    "whatweb",  "xsstrike",  "dalfox",     "fimap",     "burpcollaborator",
    "zmeu",     "morfeus",   "jorgee",   "hydra",     "metasploit", "paros",     "webinspect",
    "qualys",   "nessus",    "vega/",    "grabber",   "sqlninja",   "bsqlbf",    "pangolin",
    "nsauditor", "brutus",   "wfuzz",    "dotdotpwn", "joomscan",   "droopescan", "censysinspect"};

// Paths that a well-kept application never serves and scanners always ask for.
constexpr std::string_view kProbePaths[] = {
    "/.git/",       "/.git",          "/.env",          "/.svn/",        "/.hg/",
    "/.ds_store",   "/.aws/",         "/.ssh/",         "/.htpasswd",    "/.htaccess",
    "/web-inf/",    "/meta-inf/",     "/server-status", "/server-info",  "/phpinfo.php",
    "/wp-config.php", "/config.php.bak", "/.bash_history", "/id_rsa",     "/etc/passwd",
    "/actuator/env", "/actuator/heapdump", "/.dockerenv", "/docker-compose.yml", "/.npmrc",
    "/.vscode/",    "/.idea/",        "/backup.sql",    "/dump.sql",     "/database.sql",
    "/.well-known/security.txt.bak", "/cgi-bin/", "/phpmyadmin", "/adminer.php", "/boot.ini",
    "/win.ini",     "/.travis.yml",   "/composer.lock", "/debug/pprof",
    // Sample applications and administration consoles of web servers and application servers,
    // installed by default once and probed by every scanner since (Nikto's database).
    "/iissamples/", "/iisadmin/",     "/iisadmpwd/",    "/msadc/",       "/scripts/tools/",
    "/_vti_bin/",   "/_vti_pvt/",     "/_vti_script/",  "/_vti_txt/",    "/_cti_pvt/",
    "/cfide/administrator", "/cfdocs/", "/webspheresamples", "/ibmwebas", "/wliconsole",
    "/jmx-console", "/web-console/",  "/invoker/jmxinvokerservlet", "/manager/html",
    "/webadmin.nsf", "/names.nsf",    "/log.nsf",       "/admin.nsf",    "/samples/sampsite",
    "/samples/isapi", "/samples/dbsamp", "/samples/gbook", "/samples/htmlsamp"};

constexpr std::string_view kBackupSuffixes[] = {".bak", ".old", ".orig", ".swp", ".save",
                                                ".backup", "~", ".tmp", ".sql", ".tar.gz",
                                                ".zip", ".inc", ".cfg"};

const NeedleSet kToolAgentSet(kToolAgents);
const NeedleSet kProbePathSet(kProbePaths);

}  // namespace

bool detect_scanner(const RequestSignals& r, Hit* hit) {
  if (std::size_t k = kToolAgentSet.find(r.user_agent); k != std::string_view::npos) {
    hit->reason = "the User-Agent names the attack tool \"" + std::string(kToolAgents[k]) + "\"";
    hit->evidence = evidence(r.user_agent);
    hit->suspicious = true;
    return true;
  }
  if (std::size_t k = kProbePathSet.find(r.path); k != std::string_view::npos) {
    hit->reason = "a probe for " + std::string(kProbePaths[k]) +
                  ", a file or endpoint that scanners look for and applications never serve";
    hit->evidence = evidence(r.path);
    hit->suspicious = true;
    return true;
  }
  std::string_view last = r.path.substr(r.path.rfind('/') == std::string_view::npos ? 0 : r.path.rfind('/'));
  for (std::string_view s : kBackupSuffixes) {
    // "/.bak" alone is a scanner appending the suffix to each directory; "/~" alone is a home
    // directory, not a copy.
    std::size_t min = s.front() == '.' ? s.size() + 1 : s.size() + 2;
    if (last.size() >= min && common::iequals(last.substr(last.size() - s.size()), s)) {
      hit->reason = "a request for a backup or temporary copy (" + std::string(s) +
                    "), a classic information-disclosure probe";
      hit->evidence = evidence(r.path);
      hit->suspicious = true;
      return true;
    }
  }
  return false;
}

bool detect_protocol_anomaly(const RequestSignals& r, Hit* hit) {
  static constexpr struct {
    std::uint32_t bit;
    std::string_view what;
  } kAnomalies[] = {
      {kAnomalyAmbiguousLength,
       "a body length that depends on who reads it (Content-Length values that differ or are "
       "not a number, or a Content-Length beside Transfer-Encoding): request smuggling"},
      {kAnomalyDuplicateLength, "conflicting message lengths (request smuggling shape)"},
      {kAnomalyBadMethod, "a method that is not an HTTP token"},
      {kAnomalyBadUri, "a request target with control characters or an invalid form"},
      {kAnomalyNulByte, "a NUL byte in the request"},
      {kAnomalyBadHeader, "an invalid header name or a line break inside a header value"},
      {kAnomalyOverlongUtf8, "overlong UTF-8 (an encoding evasion)"},
      {kAnomalyBadPercent, "invalid percent-encoding"},
  };
  constexpr std::uint32_t kAny = [] {
    std::uint32_t any = 0;
    for (const auto& a : kAnomalies) any |= a.bit;
    return any;
  }();
  if (!(r.anomalies & kAny)) return false;  // the usual request: no loop over the list
  for (const auto& a : kAnomalies) {
    if (r.anomalies & a.bit) {
      hit->reason = "malformed HTTP: " + std::string(a.what);
      hit->evidence = evidence(r.path);
      hit->suspicious = true;
      return true;
    }
  }
  return false;
}

}  // namespace vigil::detect::input
