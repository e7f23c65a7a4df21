// vigil explain: one sink check, explained for a person.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "vigil/engine.hpp"

namespace vigil::cli {

Command add_explain(CLI::App& app) {
  struct Options {
    std::string sink = "sql", dialect = "generic", value, base;
    std::vector<std::string> inputs, argv;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("explain", "Check one operation against inputs and explain the verdict");
  sub->add_option("--sink", o->sink, "sql, shell, exec, path, url, html, header, redirect")
      ->check(CLI::IsMember({"sql", "shell", "exec", "path", "url", "html", "header", "redirect"}));
  sub->add_option("--dialect", o->dialect, "SQL dialect: sqlite, mysql, postgres, mssql, oracle, generic");
  sub->add_option("--value", o->value, "The operation (SQL text, command, path, URL, HTML, ...)");
  sub->add_option("--base", o->base, "Base directory (path) or page URL (redirect)");
  sub->add_option("--input", o->inputs, "An input value the request carried (repeatable)")
      ->required();
  sub->add_option("--argv", o->argv, "exec: the argument vector (repeat, or list after --)");
  return {sub, [o]() {
            SinkType type = SinkType::kSql;
            parse_sink_type(o->sink, &type);
            std::vector<std::string_view> argv(o->argv.begin(), o->argv.end());
            Sink sink = type == SinkType::kExec ? Sink::exec(argv) : Sink::of(type, o->value, o->base);
            sink.dialect = parse_dialect(o->dialect);
            std::vector<std::string> names;
            for (std::size_t i = 0; i < o->inputs.size(); ++i) names.push_back("input" + std::to_string(i + 1));
            std::vector<Input> inputs;
            for (std::size_t i = 0; i < o->inputs.size(); ++i)
              inputs.push_back(Input{Source::kOther, names[i], o->inputs[i]});
            Engine engine;
            Verdict v = engine.check_sink(sink, inputs);
            std::cout << describe(sink, inputs, v);
            return 0;
          }};
}

}  // namespace vigil::cli
