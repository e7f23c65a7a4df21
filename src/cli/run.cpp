// vigil run: start a program with the agent preloaded (SPEC "vigil run").
//   vigil run [--mode monitor|block] [--app NAME] [--events FILE] [--policy FILE]
//             [--server URL (--key KEY | --key-file FILE)] [--spool DIR] -- CMD [ARGS...]
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/program_check.hpp"

namespace vigil::cli {
namespace {

// libvigil_preload.so next to this executable's lib directory (build/bin/vigil ->
// build/lib/libvigil_preload.so), unless VIGIL_PRELOAD names another.
std::string preload_path() {
  if (const char* p = std::getenv("VIGIL_PRELOAD")) return p;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (auto dir : {self.parent_path().parent_path() / "lib", self.parent_path()}) {
    auto candidate = dir / "libvigil_preload.so";
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return {};
}

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.string();
}

}  // namespace

Command add_run(CLI::App& app) {
  struct Options {
    std::string mode = "monitor", app = "app", events, policy, status, server, key, key_file,
                spool, server_ca;
    std::vector<std::string> command;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("run", "Run a program protected by the agent (LD_PRELOAD)");
  sub->add_option("--mode", o->mode, "monitor (report) or block (stop attacks)")
      ->check(CLI::IsMember({"monitor", "block"}));
  sub->add_option("--app", o->app, "Application name in events");
  sub->add_option("--events", o->events, "Append events to FILE (JSON Lines)");
  sub->add_option("--policy", o->policy, "Policy document (YAML or JSON; see docs/policy.md)");
  sub->add_option("--status", o->status, "Write the agent's counters to FILE every second");
  sub->add_option("--server", o->server,
                  "vigild URL (http://HOST:PORT): events go there, the app's policy comes from there");
  sub->add_option("--key", o->key, "Agent key for --server (vigil keys create --app NAME)");
  sub->add_option("--key-file", o->key_file, "Read the agent key from FILE (keeps it out of ps)");
  sub->add_option("--spool", o->spool,
                  "Directory for events waiting for vigild (default: per app and server under "
                  "$TMPDIR; 'off': memory only)");
  sub->add_option("--server-ca", o->server_ca, "PEM file of the CA that signed vigild's certificate");
  sub->add_option("command", o->command, "The program and its arguments (after --)")->required();
  sub->positionals_at_end();
  return {sub, [o]() {
            std::string lib = preload_path();
            if (lib.empty()) {
              std::cerr << "vigil run: libvigil_preload.so not found (build it, or set VIGIL_PRELOAD)\n";
              return 2;
            }
            if (!o->policy.empty() && access(o->policy.c_str(), R_OK) != 0) {
              std::cerr << "vigil run: cannot read the policy " << o->policy << "\n";
              return 2;
            }
            if (!o->key.empty() && !o->key_file.empty()) {
              std::cerr << "vigil run: --key or --key-file, not both\n";
              return 2;
            }
            bool has_key = !o->key.empty() || !o->key_file.empty();
            if (!o->server.empty() && !has_key) {
              std::cerr << "vigil run: --server needs --key or --key-file (an agent key for the "
                           "application: vigil keys create --app " << o->app << ")\n";
              return 2;
            }
            if (o->server.empty() && (has_key || !o->spool.empty() || !o->server_ca.empty())) {
              std::cerr << "vigil run: --key, --key-file, --spool and --server-ca go with --server\n";
              return 2;
            }
            if (!o->server.empty() && o->server.rfind("http://", 0) != 0 &&
                o->server.rfind("https://", 0) != 0) {
              std::cerr << "vigil run: --server takes http://HOST:PORT or https://HOST:PORT\n";
              return 2;
            }
            if (!o->key_file.empty() && access(o->key_file.c_str(), R_OK) != 0) {
              std::cerr << "vigil run: cannot read the key file " << o->key_file << "\n";
              return 2;
            }
            // A program the agent cannot enter would run unprotected without a word.
            for (const std::string& warning : program_blindspots(o->command[0], lib))
              std::cerr << "vigil run: warning: " << warning << "\n";
            std::string preload = lib;
            if (const char* existing = std::getenv("LD_PRELOAD"); existing && *existing)
              preload += std::string(":") + existing;
            setenv("LD_PRELOAD", preload.c_str(), 1);
            // The program started here is a sensor's root of its own (it registers at startup),
            // even when this `vigil run` itself runs under another agent-protected program.
            unsetenv("VIGIL_AGENT_ROOT");
            setenv("VIGIL_MODE", o->mode.c_str(), 1);
            setenv("VIGIL_APP", o->app.c_str(), 1);
            if (!o->events.empty()) setenv("VIGIL_EVENTS", absolute(o->events).c_str(), 1);
            if (!o->policy.empty()) setenv("VIGIL_POLICY", absolute(o->policy).c_str(), 1);
            if (!o->status.empty()) setenv("VIGIL_STATUS", absolute(o->status).c_str(), 1);
            if (!o->server.empty()) setenv("VIGIL_SERVER", o->server.c_str(), 1);
            if (!o->key.empty()) setenv("VIGIL_KEY", o->key.c_str(), 1);
            if (!o->key_file.empty()) {
              unsetenv("VIGIL_KEY");  // the file's key, not one inherited from elsewhere
              setenv("VIGIL_KEY_FILE", absolute(o->key_file).c_str(), 1);
            }
            if (!o->spool.empty())
              setenv("VIGIL_SPOOL", o->spool == "off" ? "off" : absolute(o->spool).c_str(), 1);
            if (!o->server_ca.empty()) setenv("VIGIL_SERVER_CA", absolute(o->server_ca).c_str(), 1);
            std::vector<char*> argv;
            for (auto& a : o->command) argv.push_back(a.data());
            argv.push_back(nullptr);
            execvp(argv[0], argv.data());
            std::perror(("vigil run: " + o->command[0]).c_str());
            return 127;
          }};
}

}  // namespace vigil::cli
