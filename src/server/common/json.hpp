// JSON in vigild's control plane (nlohmann::json): bounded parsing without exceptions escaping,
// typed field access that names the offending field, and dumping that never throws on invalid
// UTF-8. The ingest hot path uses RapidJSON instead (ingest/event_batch.hpp).
#ifndef VIGIL_SERVER_COMMON_JSON_HPP_
#define VIGIL_SERVER_COMMON_JSON_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vigil::server {

using Json = nlohmann::json;

inline constexpr std::size_t kMaxJsonDepth = 64;

// Nesting depth of a JSON text (brackets outside strings), computed without parsing, so that
// deeper documents are refused before anything recursive touches them.
std::size_t json_depth(std::string_view text) noexcept;

// Parses `text`. On failure returns nullopt and sets *error to a one-line reason (with the byte
// position). Refuses documents nested deeper than kMaxJsonDepth. Never throws except
// std::bad_alloc.
std::optional<Json> parse_json(std::string_view text, std::string* error);

// Compact text of `value`; invalid UTF-8 in strings is replaced, never thrown.
std::string dump_json(const Json& value);

// Field access for request bodies. Each returns false (and sets *error to "FIELD: reason") when
// the member is present with the wrong type or out of bounds; an absent member leaves *out
// unchanged and returns true unless `required`.
struct FieldError {
  std::string field;
  std::string message;
};
bool get_string(const Json& obj, const char* name, std::string* out, FieldError* error,
                bool required = false, std::size_t max_bytes = 4096);
bool get_int(const Json& obj, const char* name, std::int64_t* out, FieldError* error,
             bool required = false, std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);
bool get_bool(const Json& obj, const char* name, bool* out, FieldError* error,
              bool required = false);

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_JSON_HPP_
