#include "export/text.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace vigil::exports {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlongs,
// surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_len(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(k) & 0xC0) != 0x80) return 0;
  if (n == 3) {
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
  }
  if (n == 4) {
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
  }
  return n;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int* y, unsigned* m, unsigned* d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (*m <= 2));
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  return utf8_len(s, i);
}

std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t end = max;
  // Step back over continuation bytes to the start of the sequence cut by `max`.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

void append_json_string(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_len(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

void append_single_line(std::string* out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_len(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    out->push_back(c < 0x20 || c == 0x7F ? ' ' : static_cast<char>(c));
    ++i;
  }
}

bool parse_rfc3339_ms(std::string_view s, std::int64_t* ms) noexcept {
  auto digits = [&](std::size_t pos, std::size_t n, int* v) {
    if (pos + n > s.size()) return false;
    int r = 0;
    for (std::size_t k = 0; k < n; ++k) {
      char c = s[pos + k];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    *v = r;
    return true;
  };
  int Y, M, D, h, m, sec;
  if (!digits(0, 4, &Y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, &M) || s[7] != '-' ||
      !digits(8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, &h) ||
      s[13] != ':' || !digits(14, 2, &m) || s[16] != ':' || !digits(17, 2, &sec))
    return false;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return false;
  std::size_t i = 19;
  int frac_ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    int scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac_ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
      if (i - start > 9) return false;
    }
    if (i == start) return false;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(i + 4, 2, &om) ||
        oh > 23 || om > 59)
      return false;
    offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  std::int64_t days = days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  std::int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - offset_min * 60;
  *ms = secs * 1000 + frac_ms;
  return true;
}

std::string format_rfc3339_ms(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int milli = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int sod = static_cast<int>(secs - days * 86400);
  int y;
  unsigned mo, d;
  civil_from_days(days, &y, &mo, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, sod / 3600,
                (sod / 60) % 60, sod % 60, milli);
  return buf;
}

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string& local_hostname() {
  static const std::string name = [] {
    char buf[256] = {0};
    std::string r;
    if (::gethostname(buf, sizeof buf - 1) == 0)
      for (const char* p = buf; *p; ++p)
        if (*p > 0x20 && *p < 0x7F) r.push_back(*p);
    return r.empty() ? std::string("-") : r;
  }();
  return name;
}

}  // namespace vigil::exports
