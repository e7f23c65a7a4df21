// `vigil eval` cases (JSON Lines, see SPEC.md) turned into engine calls.
#ifndef VIGIL_CLI_CASE_JSON_HPP_
#define VIGIL_CLI_CASE_JSON_HPP_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace vigil::cli {

// A sink case with its strings owned, and the engine views onto them.
struct SinkCase {
  std::string value, base;
  std::vector<std::string> argv_storage;
  std::vector<std::string_view> argv;
  std::vector<std::string> input_names, input_values;
  std::vector<Input> inputs;
  Sink sink;
};

// Fills *out from a parsed case object of type "sink". Returns an empty string on success,
// otherwise what is wrong with the case.
std::string parse_sink_case(const nlohmann::json& j, SinkCase* out);

// A request case with its strings owned, and the request view onto them.
struct RequestCase {
  std::string method, uri, body, client_ip;
  std::vector<std::pair<std::string, std::string>> header_storage;
  std::vector<Header> headers;
  HttpRequest request;
};

// Fills *out from a case object of type "request" ({"request":{method, uri, headers, body,
// client_ip}}). Headers are an object (name -> string, or -> list of strings) or a list of
// [name, value] pairs. Returns an empty string on success, else what is wrong.
std::string parse_request_case(const nlohmann::json& j, RequestCase* out);

// The JSON text of the case's id (or null), safe to splice into output.
std::string id_json(const nlohmann::json& j);

}  // namespace vigil::cli

#endif  // VIGIL_CLI_CASE_JSON_HPP_
