#include "server/common/json.hpp"

#include <algorithm>

namespace vigil::server {

std::size_t json_depth(std::string_view s) noexcept {
  std::size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  if (json_depth(text) > kMaxJsonDepth) {
    *error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return std::nullopt;
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> drop the tag.
    std::string what = e.what();
    auto pos = what.find("] ");
    *error = "invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2));
    return std::nullopt;
  }
}

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {
bool fail(FieldError* error, const char* name, std::string message) {
  error->field = name;
  error->message = std::move(message);
  return false;
}
}  // namespace

bool get_string(const Json& obj, const char* name, std::string* out, FieldError* error,
                bool required, std::size_t max_bytes) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null())
    return required ? fail(error, name, "is required") : true;
  if (!it->is_string()) return fail(error, name, "must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return fail(error, name, "is longer than " + std::to_string(max_bytes) + " bytes");
  *out = s;
  return true;
}

bool get_int(const Json& obj, const char* name, std::int64_t* out, FieldError* error,
             bool required, std::int64_t min, std::int64_t max) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null())
    return required ? fail(error, name, "is required") : true;
  if (!it->is_number_integer()) return fail(error, name, "must be an integer");
  std::int64_t v = it->is_number_unsigned()
                       ? (it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                              ? INT64_MAX
                              : static_cast<std::int64_t>(it->get<std::uint64_t>()))
                       : it->get<std::int64_t>();
  if (v < min || v > max)
    return fail(error, name,
                "must be between " + std::to_string(min) + " and " + std::to_string(max));
  *out = v;
  return true;
}

bool get_bool(const Json& obj, const char* name, bool* out, FieldError* error, bool required) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null())
    return required ? fail(error, name, "is required") : true;
  if (!it->is_boolean()) return fail(error, name, "must be true or false");
  *out = it->get<bool>();
  return true;
}

}  // namespace vigil::server
