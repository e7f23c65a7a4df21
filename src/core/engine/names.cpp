#include <array>

#include "vigil/engine.hpp"

namespace vigil {
namespace {

constexpr std::array<std::string_view, 8> kSources = {"query", "body",   "json",      "header",
                                                      "cookie", "path", "multipart", "other"};
constexpr std::array<std::string_view, kSinkTypeCount> kSinks = {
    "sql", "shell", "exec", "path", "url", "html", "header", "redirect"};
constexpr std::array<std::string_view, 6> kDialects = {"generic",  "sqlite", "mysql",
                                                       "postgres", "mssql",  "oracle"};
constexpr std::array<std::string_view, 11> kForms = {
    "raw",        "url-decoded",   "url-decoded-twice", "html-decoded",
    "json-unescaped", "trimmed",   "quote-doubled",     "nul-truncated",
    "name",       "json-field",    "base64-decoded"};

template <typename Array>
std::string_view name_at(const Array& names, std::size_t i) {
  return i < names.size() ? names[i] : std::string_view("unknown");
}

}  // namespace

std::string_view source_name(Source s) noexcept { return name_at(kSources, std::size_t(s)); }
std::string_view sink_type_name(SinkType t) noexcept { return name_at(kSinks, std::size_t(t)); }
std::string_view dialect_name(Dialect d) noexcept { return name_at(kDialects, std::size_t(d)); }
std::string_view form_name(Form f) noexcept { return name_at(kForms, std::size_t(f)); }

Source parse_source(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kSources.size(); ++i)
    if (kSources[i] == name) return static_cast<Source>(i);
  // Accepted synonyms seen in tools and datasets.
  if (name == "form") return Source::kBody;
  if (name == "cookies") return Source::kCookie;
  if (name == "headers") return Source::kHeader;
  return Source::kOther;
}

bool parse_sink_type(std::string_view name, SinkType* out) noexcept {
  for (std::size_t i = 0; i < kSinks.size(); ++i) {
    if (kSinks[i] == name) {
      *out = static_cast<SinkType>(i);
      return true;
    }
  }
  return false;
}

Dialect parse_dialect(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDialects.size(); ++i)
    if (kDialects[i] == name) return static_cast<Dialect>(i);
  if (name == "postgresql" || name == "pg") return Dialect::kPostgres;
  if (name == "mariadb") return Dialect::kMysql;
  if (name == "sqlserver") return Dialect::kMssql;
  return Dialect::kGeneric;
}

}  // namespace vigil
