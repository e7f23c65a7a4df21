#include "cli/case_json.hpp"

namespace vigil::cli {
namespace {

using nlohmann::json;

bool get_string(const json& j, const char* key, std::string* out, std::string* error,
                bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) *error = std::string("missing \"") + key + "\"";
    return !required;
  }
  if (!it->is_string()) {
    *error = std::string("\"") + key + "\" must be a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

}  // namespace

std::string id_json(const json& j) {
  if (!j.is_object()) return "null";
  auto it = j.find("id");
  if (it == j.end()) return "null";
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string parse_sink_case(const json& j, SinkCase* out) {
  std::string error;
  std::string sink_name;
  if (!get_string(j, "sink", &sink_name, &error, true)) return error;
  SinkType type;
  if (!parse_sink_type(sink_name, &type)) return "unknown sink \"" + sink_name + "\"";
  out->sink = Sink{};
  out->sink.type = type;
  std::string dialect;
  if (!get_string(j, "dialect", &dialect, &error, false)) return error;
  out->sink.dialect = parse_dialect(dialect);
  if (type == SinkType::kExec) {
    auto it = j.find("argv");
    if (it == j.end() || !it->is_array()) return "exec case needs an \"argv\" array of strings";
    out->argv_storage.clear();
    for (const auto& a : *it) {
      if (!a.is_string()) return "\"argv\" must hold only strings";
      out->argv_storage.push_back(a.get<std::string>());
    }
    out->argv.assign(out->argv_storage.begin(), out->argv_storage.end());
    out->sink.argv = out->argv;
  } else {
    if (!get_string(j, "value", &out->value, &error, true)) return error;
    out->sink.value = out->value;
  }
  if (!get_string(j, "base", &out->base, &error, false)) return error;
  out->sink.base = out->base;

  out->inputs.clear();
  out->input_names.clear();
  out->input_values.clear();
  auto inputs = j.find("inputs");
  if (inputs != j.end() && !inputs->is_null()) {
    if (!inputs->is_array()) return "\"inputs\" must be an array";
    std::vector<Source> sources;
    for (const auto& in : *inputs) {
      if (!in.is_object()) return "each input must be an object";
      std::string source, name, value;
      if (!get_string(in, "source", &source, &error, false)) return error;
      if (!get_string(in, "name", &name, &error, false)) return error;
      if (!get_string(in, "value", &value, &error, true)) return "input: " + error;
      sources.push_back(parse_source(source));
      out->input_names.push_back(std::move(name));
      out->input_values.push_back(std::move(value));
    }
    for (std::size_t i = 0; i < sources.size(); ++i)
      out->inputs.push_back(Input{sources[i], out->input_names[i], out->input_values[i]});
  }
  return {};
}

std::string parse_request_case(const json& j, RequestCase* out) {
  auto r = j.find("request");
  if (r == j.end() || !r->is_object()) return "a request case needs a \"request\" object";
  std::string error;
  if (!get_string(*r, "method", &out->method, &error, false)) return error;
  if (out->method.empty()) out->method = "GET";
  if (!get_string(*r, "uri", &out->uri, &error, true)) return error;
  if (!get_string(*r, "body", &out->body, &error, false)) return error;
  if (!get_string(*r, "client_ip", &out->client_ip, &error, false)) return error;
  out->header_storage.clear();
  auto h = r->find("headers");
  if (h != r->end() && !h->is_null()) {
    if (h->is_object()) {
      for (auto it = h->begin(); it != h->end(); ++it) {
        if (it.value().is_string()) {
          out->header_storage.emplace_back(it.key(), it.value().get<std::string>());
        } else if (it.value().is_array()) {
          for (const auto& v : it.value()) {
            if (!v.is_string()) return "header values must be strings";
            out->header_storage.emplace_back(it.key(), v.get<std::string>());
          }
        } else {
          return "header \"" + it.key() + "\" must be a string";
        }
      }
    } else if (h->is_array()) {
      for (const auto& pair : *h) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
          return "headers as a list must hold [name, value] string pairs";
        out->header_storage.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
      }
    } else {
      return "\"headers\" must be an object or a list";
    }
  }
  out->headers.clear();
  for (const auto& [name, value] : out->header_storage) out->headers.push_back(Header{name, value});
  out->request = HttpRequest{out->method, out->uri, out->headers, out->body, out->client_ip};
  return {};
}

}  // namespace vigil::cli
