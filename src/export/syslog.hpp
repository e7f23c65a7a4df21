// RFC 5424 syslog messages: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
// Header fields are printable US-ASCII within their RFC lengths (hostname 255, app-name 48,
// procid 128, msgid 32); no structured data; MSG is the record (UTF-8, no BOM: CEF and LEEF
// parsers expect the record to start the message).
#ifndef VIGIL_EXPORT_SYSLOG_HPP_
#define VIGIL_EXPORT_SYSLOG_HPP_

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::exports {

struct SyslogOptions {
  int facility = 10;            // authpriv (security/authorization); 0-23
  std::string hostname;         // "" = local_hostname()
  std::string app_name = "vigil";
};

// Facility by name ("authpriv", "local0"..."local7", "auth", "user", "daemon", "security"
// = 13 log audit) or number 0-23.
bool parse_facility(std::string_view s, int* facility) noexcept;

std::string syslog_message(const SyslogOptions& o, int severity, std::int64_t time_ms,
                           std::string_view msgid, std::string_view msg);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_SYSLOG_HPP_
