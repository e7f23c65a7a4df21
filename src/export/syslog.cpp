#include "export/syslog.hpp"

#include <unistd.h>

#include "export/text.hpp"

namespace vigil::exports {
namespace {

// PRINTUSASCII (33-126), at most `max`, "-" when empty.
void header_field(std::string* out, std::string_view s, std::size_t max) {
  std::size_t start = out->size();
  for (char c : s) {
    if (out->size() - start >= max) break;
    if (c > 32 && c < 127) out->push_back(c);
  }
  if (out->size() == start) out->push_back('-');
}

}  // namespace

bool parse_facility(std::string_view s, int* facility) noexcept {
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"kern", 0},     {"user", 1},     {"mail", 2},     {"daemon", 3},  {"auth", 4},
      {"syslog", 5},   {"lpr", 6},      {"news", 7},     {"uucp", 8},    {"cron", 9},
      {"authpriv", 10}, {"ftp", 11},    {"ntp", 12},     {"security", 13}, {"audit", 13},
      {"console", 14}, {"local0", 16},  {"local1", 17},  {"local2", 18}, {"local3", 19},
      {"local4", 20},  {"local5", 21},  {"local6", 22},  {"local7", 23}};
  for (const auto& [name, n] : kNames)
    if (s == name) {
      *facility = n;
      return true;
    }
  if (s.empty() || s.size() > 2) return false;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n > 23) return false;
  *facility = n;
  return true;
}

std::string syslog_message(const SyslogOptions& o, int severity, std::int64_t time_ms,
                           std::string_view msgid, std::string_view msg) {
  static const std::string pid = std::to_string(::getpid());
  std::string out;
  out.reserve(msg.size() + 128);
  out.push_back('<');
  out += std::to_string(o.facility * 8 + (severity & 7));
  out += ">1 ";
  out += format_rfc3339_ms(time_ms);
  out.push_back(' ');
  header_field(&out, o.hostname.empty() ? local_hostname() : o.hostname, 255);
  out.push_back(' ');
  header_field(&out, o.app_name, 48);
  out.push_back(' ');
  header_field(&out, pid, 128);
  out.push_back(' ');
  header_field(&out, msgid, 32);
  out += " - ";
  out.append(msg);
  return out;
}

}  // namespace vigil::exports
