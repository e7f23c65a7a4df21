// vigil policy check FILE: diagnostics of a policy document.
// vigil policy test FILE --cases FILE: replay `vigil eval` request cases against a policy and
// report what it would block (the "would have blocked" preview).
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/case_json.hpp"
#include "cli/commands.hpp"
#include "vigil/analysis.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil::cli {
namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// Prints diagnostics as "FILE:LINE:COL: error: message [code at location]"; returns the
// number of errors.
int print_diagnostics(const std::string& file, const std::vector<PolicyDiagnostic>& diags) {
  int errors = 0;
  for (const auto& d : diags) {
    bool error = d.severity == PolicyDiagnostic::Severity::kError;
    errors += error;
    std::cerr << file;
    if (d.line > 0) std::cerr << ":" << d.line << ":" << d.column;
    std::cerr << ": " << (error ? "error" : "warning") << ": " << d.message << " [" << d.code;
    if (!d.location.empty()) std::cerr << " at " << d.location;
    std::cerr << "]\n";
  }
  return errors;
}

int check(const std::string& file) {
  std::string text;
  if (!read_file(file, &text)) {
    std::cerr << file << ": cannot read the file\n";
    return 2;
  }
  std::vector<PolicyDiagnostic> diags;
  auto policy = Policy::compile(text, &diags);
  int errors = print_diagnostics(file, diags);
  std::cout << file << ": " << (errors ? "loaded with errors" : "ok") << " (default mode "
            << mode_name(policy->default_mode()) << ", " << policy->virtual_patch_count()
            << " virtual patches, " << errors << " errors, " << diags.size() - errors
            << " warnings)\n";
  return errors ? 1 : 0;
}

int test(const std::string& file, const std::string& cases_file, bool list) {
  std::string text;
  if (!read_file(file, &text)) {
    std::cerr << file << ": cannot read the file\n";
    return 2;
  }
  std::vector<PolicyDiagnostic> diags;
  auto policy = Policy::compile(text, &diags);
  print_diagnostics(file, diags);
  std::ifstream cases(cases_file);
  if (!cases) {
    std::cerr << cases_file << ": cannot read the file\n";
    return 2;
  }
  Engine engine;
  engine.set_policy(policy);
  std::size_t total = 0, blocked = 0, monitored = 0, clean = 0, errors = 0;
  std::map<std::string, std::size_t> by_rule;
  std::string line;
  RequestContext ctx;
  while (std::getline(cases, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++total;
    auto j = nlohmann::json::parse(line, nullptr, false);
    RequestCase c;
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "request" ||
        !parse_request_case(j, &c).empty()) {
      ++errors;
      continue;
    }
    ctx.parse(c.request);
    PreparedInputs prepared(ctx.inputs());
    RequestVerdict v = engine.analyze_request(ctx, prepared);
    if (v.block) {
      ++blocked;
      const Finding& f = v.findings[v.blocking_finding];
      ++by_rule[f.rule];
      if (list) std::cout << "block " << id_json(j) << " " << f.rule << ": " << f.reason << "\n";
    } else if (v.attack()) {
      ++monitored;
    } else {
      ++clean;
    }
  }
  std::cout << "cases " << total << ": would block " << blocked << ", would report (monitor) "
            << monitored << ", clean " << clean << ", not request cases or malformed " << errors
            << "\n";
  for (const auto& [rule, n] : by_rule) std::cout << "  " << rule << ": " << n << " blocked\n";
  return 0;
}

}  // namespace

Command add_policy(CLI::App& app) {
  auto* sub = app.add_subcommand("policy", "Check a policy, or preview what it would block");
  sub->require_subcommand(1);
  struct Options {
    std::string file, cases;
    bool list = false;
  };
  auto o = std::make_shared<Options>();
  auto* check_cmd = sub->add_subcommand("check", "Print a policy's diagnostics (exit 1 on errors)");
  check_cmd->add_option("FILE", o->file, "Policy document (YAML or JSON)")->required();
  auto* test_cmd = sub->add_subcommand("test", "Replay request cases and report what would be blocked");
  test_cmd->add_option("FILE", o->file, "Policy document (YAML or JSON)")->required();
  test_cmd->add_option("--cases", o->cases, "vigil eval cases (JSON Lines)")->required();
  test_cmd->add_flag("--list", o->list, "List every case that would be blocked");
  return {sub, [o, check_cmd]() { return check_cmd->parsed() ? check(o->file) : test(o->file, o->cases, o->list); }};
}

}  // namespace vigil::cli
