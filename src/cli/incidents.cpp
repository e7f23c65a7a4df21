// vigil incidents [ID]: the ranked incident list of vigild, or one incident with its events.
//   vigil incidents [--app NAME] [--status open,acknowledged] [--limit N] [--json]
//   vigil incidents 7 [--json]
#include <iostream>
#include <memory>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {

Command add_incidents(CLI::App& app) {
  struct Options {
    ApiOptions api;
    std::string app, status, id;
    int limit = 20;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("incidents", "List vigild's incidents, most important first");
  add_api_options(sub, &o->api);
  sub->add_option("ID", o->id, "Show one incident with its events");
  sub->add_option("--app", o->app, "Only this application");
  sub->add_option("--status", o->status, "open, acknowledged, resolved, false_positive (comma-separated)");
  sub->add_option("--limit", o->limit, "How many")->check(CLI::Range(1, 500));
  sub->add_flag("--json", o->json, "Print vigild's JSON");
  return {sub, [o]() {
            std::string error;
            auto client = ApiClient::connect(o->api, &error);
            if (!client) {
              std::cerr << "vigil incidents: " << error << "\n";
              return 2;
            }
            if (!o->id.empty()) {
              auto r = client->get("/api/v1/incidents/" + url_encode(o->id) + "?events_limit=20");
              if (r.status != 200) {
                std::cerr << "vigil incidents: " << r.describe() << "\n";
                return 1;
              }
              auto j = r.json();
              if (o->json) {
                std::cout << j.dump(2) << "\n";
                return 0;
              }
              std::cout << "#" << j.value("id", 0) << " " << j.value("summary", "") << "\n"
                        << "  status " << j.value("status", "") << ", outcome "
                        << j.value("outcome", "") << ", score " << j.value("score", 0.0)
                        << ", first seen " << j.value("first_seen", "") << ", last seen "
                        << j.value("last_seen", "") << "\n";
              for (const auto& e : j.value("events", nlohmann::json::array())) {
                std::cout << "  " << e.value("time", "") << "  " << e.value("outcome", "") << "  "
                          << e.value("rule", "");
                if (e.contains("request") && e["request"].is_object())
                  std::cout << "  " << e["request"].value("method", "") << " "
                            << e["request"].value("path", "");
                if (e.contains("input") && e["input"].is_object())
                  std::cout << "  " << e["input"].value("source", "") << ":"
                            << e["input"].value("name", "");
                std::cout << "\n";
              }
              return 0;
            }
            std::string path = "/api/v1/incidents?limit=" + std::to_string(o->limit);
            if (!o->app.empty()) path += "&app=" + url_encode(o->app);
            if (!o->status.empty()) path += "&status=" + url_encode(o->status);
            auto r = client->get(path);
            if (r.status != 200) {
              std::cerr << "vigil incidents: " << r.describe() << "\n";
              return 1;
            }
            auto list = r.json();
            if (o->json) {
              std::cout << list.dump(2) << "\n";
              return 0;
            }
            if (list.empty()) std::cout << "no incidents\n";
            for (const auto& i : list) {
              std::printf("#%-5lld %-10s %-13s %5.1f  %s\n", i.value("id", 0LL),
                          i.value("outcome", "").c_str(), i.value("status", "").c_str(),
                          i.value("score", 0.0), i.value("summary", "").c_str());
            }
            return 0;
          }};
}

}  // namespace vigil::cli
