// vigil server [ARGS...]: runs vigild (the ADR server) with ARGS, e.g.
//   vigil server --data DIR --listen 127.0.0.1:7700
// vigild is looked up next to this executable (build/bin/vigild), unless VIGILD names another.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace vigil::cli {
namespace {

std::string vigild_path() {
  if (const char* p = std::getenv("VIGILD"); p && *p) return p;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto candidate = self.parent_path() / "vigild";
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return "vigild";  // from PATH
}

}  // namespace

Command add_server(CLI::App& app) {
  auto* sub = app.add_subcommand("server", "Run the Vigil server (vigild; see vigild --help)");
  sub->prefix_command();  // everything after "server" goes to vigild as is
  sub->set_help_flag();   // --help too: vigild answers it
  return {sub, [sub]() {
            std::vector<std::string> rest = sub->remaining();
            std::string path = vigild_path();
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(path.c_str()));
            for (auto& a : rest) argv.push_back(a.data());
            argv.push_back(nullptr);
            if (path.find('/') != std::string::npos)
              execv(path.c_str(), argv.data());
            else
              execvp(path.c_str(), argv.data());
            std::cerr << "vigil server: cannot run " << path << ": " << std::strerror(errno)
                      << " (build it, or set VIGILD)\n";
            return 127;
          }};
}

}  // namespace vigil::cli
