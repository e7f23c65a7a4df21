// vigil events tail: the newest events stored by vigild, and (with --follow) the ones that
// arrive after them.
//   vigil events tail [--app NAME] [--outcome exploited,blocked] [-n N] [--follow] [--json]
#include <chrono>
#include <deque>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {
namespace {

void print_event(const nlohmann::json& e, bool json) {
  if (json) {
    std::cout << e.dump() << "\n";
    return;
  }
  std::cout << e.value("time", "") << "  " << e.value("app", "") << "  "
            << e.value("outcome", "") << "  " << e.value("rule", "");
  if (e.contains("request") && e["request"].is_object())
    std::cout << "  " << e["request"].value("client_ip", "") << "  "
              << e["request"].value("method", "") << " " << e["request"].value("path", "");
  if (e.contains("input") && e["input"].is_object())
    std::cout << "  " << e["input"].value("source", "") << ":" << e["input"].value("name", "");
  std::cout << "\n";
}

}  // namespace

Command add_events(CLI::App& app) {
  struct Options {
    ApiOptions api;
    std::string app, outcome;
    int count = 20;
    double interval = 1.0;
    bool follow = false, json = false;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("events", "Events stored by vigild");
  sub->require_subcommand(1);
  auto* tail = sub->add_subcommand("tail", "The newest events (and new ones with --follow)");
  add_api_options(tail, &o->api);
  tail->add_option("--app", o->app, "Only this application");
  tail->add_option("--outcome", o->outcome, "exploited, blocked, probed, suspicious (comma-separated)");
  tail->add_option("-n,--lines", o->count, "How many to show first")->check(CLI::Range(1, 1000));
  tail->add_flag("-f,--follow", o->follow, "Keep printing new events");
  tail->add_option("--interval", o->interval, "Seconds between polls with --follow")
      ->check(CLI::Range(0.1, 3600.0));
  tail->add_flag("--json", o->json, "One JSON object per line");
  return {tail, [o]() {
            std::string error;
            auto client = ApiClient::connect(o->api, &error);
            if (!client) {
              std::cerr << "vigil events tail: " << error << "\n";
              return 2;
            }
            std::string base = "/api/v1/events?";
            if (!o->app.empty()) base += "app=" + url_encode(o->app) + "&";
            if (!o->outcome.empty()) base += "outcome=" + url_encode(o->outcome) + "&";
            std::set<std::string> seen;
            std::deque<std::string> order;  // bounded memory of printed ids
            std::string since;
            bool first = true;
            for (;;) {
              std::string path = base + "limit=" + std::to_string(first ? o->count : 1000);
              if (!since.empty()) path += "&since=" + url_encode(since);
              auto r = client->get(path);
              if (r.status != 200) {
                std::cerr << "vigil events tail: " << r.describe() << "\n";
                return 1;
              }
              auto events = r.json();
              // Newest first from vigild: print oldest first, each once.
              for (auto it = events.rbegin(); it != events.rend(); ++it) {
                std::string id = it->value("event_id", "");
                if (!seen.insert(id).second) continue;
                order.push_back(id);
                if (order.size() > 100000) {
                  seen.erase(order.front());
                  order.pop_front();
                }
                print_event(*it, o->json);
                std::string t = it->value("time", "");
                if (t > since) since = t;
              }
              std::cout.flush();
              if (!o->follow) return 0;
              first = false;
              std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o->interval * 1000)));
            }
          }};
}

}  // namespace vigil::cli
