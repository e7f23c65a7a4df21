// The `vigil` subcommands, one file each. Each registers its subcommand and options on the
// CLI11 app and returns it with the function that runs it once parsed.
#ifndef VIGIL_CLI_COMMANDS_HPP_
#define VIGIL_CLI_COMMANDS_HPP_

#include <functional>

#include <CLI/CLI.hpp>

namespace vigil::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_eval(CLI::App& app);
Command add_events(CLI::App& app);
Command add_explain(CLI::App& app);
Command add_forward(CLI::App& app);
Command add_incidents(CLI::App& app);
Command add_keys(CLI::App& app);
Command add_policy(CLI::App& app);
// `policy get|set` (vigild): attached to the subcommand add_policy() created.
Command add_policy_get(CLI::App& app);
Command add_policy_set(CLI::App& app);
Command add_run(CLI::App& app);
Command add_server(CLI::App& app);
Command add_status(CLI::App& app);

}  // namespace vigil::cli

#endif  // VIGIL_CLI_COMMANDS_HPP_
