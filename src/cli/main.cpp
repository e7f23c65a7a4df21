// vigil: the command line.
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Vigil: application detection and response", "vigil"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vigil 0.1.0");
  std::vector<vigil::cli::Command> commands = {
      vigil::cli::add_eval(app),
      vigil::cli::add_explain(app),
      vigil::cli::add_forward(app),
      vigil::cli::add_policy(app),
      vigil::cli::add_run(app),
      vigil::cli::add_server(app),
      vigil::cli::add_status(app),
  };
  // vigild's API; policy get|set first: `policy` itself is parsed too when they are.
  commands.insert(commands.begin(), {vigil::cli::add_policy_get(app), vigil::cli::add_policy_set(app),
                                     vigil::cli::add_incidents(app), vigil::cli::add_events(app),
                                     vigil::cli::add_keys(app)});
  CLI11_PARSE(app, argc, argv);
  for (auto& command : commands)
    if (command.app->parsed()) return command.run();
  return 2;
}
