// vigil policy get APP [-o FILE] / vigil policy set APP FILE: an application's policy on vigild
// (JSON; `set` also reads YAML, as `vigil policy check` does). Attached to the `policy`
// subcommand of policy.cpp.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {
namespace {

// YAML (a superset of JSON) to JSON: quoted scalars stay strings; plain ones become numbers,
// booleans or null when they read as such.
nlohmann::json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& e : n) out.push_back(to_json(e));
      return out;
    }
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& kv : n) out[kv.first.Scalar()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end && *end == '\0') return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return d;
      return s;
    }
  }
  return nullptr;
}

}  // namespace

Command add_policy_get(CLI::App& app) {
  struct Options {
    ApiOptions api;
    std::string app, out;
  };
  auto o = std::make_shared<Options>();
  auto* policy = app.get_subcommand("policy");
  auto* get = policy->add_subcommand("get", "Print an application's policy on vigild");
  add_api_options(get, &o->api);
  get->add_option("APP", o->app, "Application name")->required();
  get->add_option("-o,--output", o->out, "Write it to FILE");
  return {get, [o]() {
            std::string error;
            auto client = ApiClient::connect(o->api, &error);
            if (!client) {
              std::cerr << "vigil policy get: " << error << "\n";
              return 2;
            }
            auto r = client->get("/api/v1/apps/" + url_encode(o->app) + "/policy");
            if (r.status != 200) {
              std::cerr << "vigil policy get: " << r.describe() << "\n";
              return 1;
            }
            auto j = r.json();
            std::string text = j["policy"].is_null() ? "{}" : j["policy"].dump(2);
            std::cerr << o->app << ": policy version " << j.value("version", 0) << "\n";
            if (o->out.empty()) {
              std::cout << text << "\n";
            } else {
              std::ofstream(o->out) << text << "\n";
            }
            return 0;
          }};
}

Command add_policy_set(CLI::App& app) {
  struct Options {
    ApiOptions api;
    std::string app, file, comment;
  };
  auto o = std::make_shared<Options>();
  auto* policy = app.get_subcommand("policy");
  auto* set = policy->add_subcommand("set", "Replace an application's policy on vigild");
  add_api_options(set, &o->api);
  set->add_option("APP", o->app, "Application name")->required();
  set->add_option("FILE", o->file, "Policy document (YAML or JSON)")->required();
  set->add_option("--comment", o->comment, "Why (kept in the policy's history)");
  return {set, [o]() {
            nlohmann::json doc;
            try {
              doc = to_json(YAML::LoadFile(o->file));
            } catch (const YAML::Exception& e) {
              std::cerr << o->file << ": " << e.what() << "\n";
              return 2;
            }
            if (!doc.is_object()) {
              std::cerr << o->file << ": a policy is a mapping of keys (docs/policy.md)\n";
              return 2;
            }
            std::string error;
            auto client = ApiClient::connect(o->api, &error);
            if (!client) {
              std::cerr << "vigil policy set: " << error << "\n";
              return 2;
            }
            nlohmann::json body = {{"policy", doc}, {"comment", o->comment}};
            auto r = client->send("PUT", "/api/v1/apps/" + url_encode(o->app) + "/policy",
                                  body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            auto j = r.json();
            for (const auto& d : j.value("diagnostics", nlohmann::json::array()))
              std::cerr << o->file << ": " << d.value("severity", "") << ": "
                        << d.value("message", "") << " [" << d.value("code", "") << " at "
                        << d.value("location", "") << "]\n";
            if (r.status != 200) {
              std::cerr << "vigil policy set: " << r.describe() << "\n";
              return 1;
            }
            std::cout << o->app << ": policy version " << j.value("version", 0) << "\n";
            return 0;
          }};
}

}  // namespace vigil::cli
