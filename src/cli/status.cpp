// vigil status: the counters agents write (requests seen, sinks checked, detections, drops,
// fail-opens, budget overruns), one line per agent process.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"

namespace vigil::cli {

Command add_status(CLI::App& app) {
  struct Options {
    std::vector<std::string> files;
    std::string events;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("status", "Show the counters of running agents");
  sub->add_option("--events", o->events, "The events file given to vigil run (finds its status files)");
  sub->add_option("files", o->files, "Status files (vigil run --status FILE)");
  sub->add_flag("--json", o->json, "Print the status objects as JSON Lines");
  return {sub, [o]() {
            std::vector<std::string> files = o->files;
            if (!o->events.empty()) {
              namespace fs = std::filesystem;
              fs::path events = fs::absolute(o->events);
              std::string prefix = events.filename().string() + ".status.";
              std::error_code ec;
              for (const auto& entry : fs::directory_iterator(events.parent_path(), ec)) {
                std::string name = entry.path().filename().string();
                if (name.rfind(prefix, 0) == 0 && name.size() > 5 && name.substr(name.size() - 5) == ".json")
                  files.push_back(entry.path().string());
              }
            }
            if (files.empty()) {
              std::cerr << "vigil status: no status files (give --events FILE or status files)\n";
              return 1;
            }
            int shown = 0;
            for (const auto& f : files) {
              std::ifstream in(f);
              std::stringstream ss;
              ss << in.rdbuf();
              auto j = nlohmann::json::parse(ss.str(), nullptr, false);
              if (j.is_discarded() || !j.is_object()) {
                std::cerr << f << ": not a status file\n";
                continue;
              }
              int pid = j.value("pid", 0);
              bool alive = pid > 0 && kill(pid, 0) == 0;
              if (o->json) {
                j["alive"] = alive;
                std::cout << j.dump() << "\n";
              } else {
                std::cout << "pid " << pid << (alive ? " (running)" : " (exited)") << " app "
                          << j.value("app", "?") << " mode " << j.value("mode", "?") << " at "
                          << j.value("time", "?") << "\n  requests " << j.value("requests", 0)
                          << ", sinks checked " << j.value("sinks", 0) << ", detections "
                          << j.value("detections", 0) << ", blocked " << j.value("blocked", 0)
                          << ", events written " << j.value("events", 0) << ", dropped "
                          << j.value("drops", 0) << ", write errors " << j.value("write_errors", 0)
                          << ", fail-opens " << j.value("fail_opens", 0) << ", budget overruns "
                          << j.value("budget_overruns", 0) << "\n  connections "
                          << j.value("connections", 0) << ", not read: not HTTP/1.1 "
                          << j.value("not_http", 0) << ", TLS not decrypted through OpenSSL "
                          << j.value("tls_unseen", 0) << "\n";
              }
              ++shown;
            }
            return shown ? 0 : 1;
          }};
}

}  // namespace vigil::cli
