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

}  // namespace vigil::cli
