// vigil keys create --app NAME: a new agent key (admin), printed once.
#include <iostream>
#include <memory>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {

Command add_keys(CLI::App& app) {
  struct Options {
    ApiOptions api;
    std::string app, name;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("keys", "Agent keys of vigild");
  sub->require_subcommand(1);
  auto* create = sub->add_subcommand("create", "Create an agent key for an application (admin)");
  add_api_options(create, &o->api);
  create->add_option("--app", o->app, "Application name")->required();
  create->add_option("--name", o->name, "A name to recognise the key by (host, deployment)");
  return {create, [o]() {
            std::string error;
            auto client = ApiClient::connect(o->api, &error);
            if (!client) {
              std::cerr << "vigil keys create: " << error << "\n";
              return 2;
            }
            nlohmann::json body = {{"app", o->app}, {"name", o->name}};
            auto r = client->send("POST", "/api/v1/keys", body.dump());
            if (r.status != 200 && r.status != 201) {
              std::cerr << "vigil keys create: " << r.describe() << "\n";
              return 1;
            }
            std::cout << r.json().value("key", "") << "\n";
            return 0;
          }};
}

}  // namespace vigil::cli
