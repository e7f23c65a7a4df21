// vigil eval: the accuracy protocol (SPEC.md). JSON Lines cases in, one verdict per case out,
// in order; a malformed line gets an error verdict and the run goes on.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/case_json.hpp"
#include "cli/commands.hpp"
#include "vigil/analysis.hpp"
#include "vigil/policy.hpp"

namespace vigil::cli {
namespace {

using nlohmann::json;

std::string json_string(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string evaluate_request(const Engine& engine, const json& j, const std::string& id,
                             bool explain) {
  RequestCase c;
  std::string error = parse_request_case(j, &c);
  if (!error.empty()) return "{\"id\":" + id + ",\"error\":" + json_string(error) + "}";
  RequestContext ctx;
  ctx.parse(c.request);
  PreparedInputs prepared(ctx.inputs());
  RequestVerdict v = engine.analyze_request(ctx, prepared);
  // The strongest finding names the verdict: an attempt outranks a weak signal. A budget
  // overrun is a note about the analysis, not evidence about the request.
  const Finding* f = nullptr;
  for (const Finding& g : v.findings) {
    if (g.rule == "analysis-budget") continue;
    if (f == nullptr) f = &g;
    if (g.outcome == Outcome::kProbed || g.outcome == Outcome::kBlocked) {
      f = &g;
      break;
    }
  }
  if (f == nullptr) return "{\"id\":" + id + ",\"verdict\":\"clean\"}";
  std::string out = "{\"id\":" + id + ",\"verdict\":\"attack\",\"rule\":" + json_string(f->rule) +
                    ",\"outcome\":" + json_string(outcome_name(f->outcome));
  if (explain) {
    out += ",\"reason\":" + json_string(f->reason) + ",\"evidence\":" + json_string(f->evidence);
    if (f->input >= 0 && static_cast<std::size_t>(f->input) < ctx.inputs().size()) {
      const Input& in = ctx.inputs()[f->input];
      out += ",\"input\":" + json_string(std::string(source_name(in.source)) + ":" + std::string(in.name));
    }
  }
  return out + "}";
}

// With --html-in-pieces: the first attack among the starts of an HTML page that end in or just
// after an input, checked as the agent checks a page still being written (Sink::partial). A
// program may write its page in pieces that end anywhere; the starts near an input are where
// a cut could mislead the check.
// Bounded (kMaxStarts per case, the first kMaxOccurrences of each input), so that a case full
// of occurrences costs a fixed number of checks.
Verdict first_partial_attack(const Engine& engine, const SinkCase& c) {
  constexpr int kMaxOccurrences = 8, kMaxStarts = 64;
  const std::string_view page = c.sink.value;
  int starts = 0;
  for (const Input& in : c.inputs) {
    if (in.value.empty()) continue;
    int seen = 0;
    for (std::size_t at = page.find(in.value); at != std::string_view::npos && seen < kMaxOccurrences;
         at = page.find(in.value, at + 1), ++seen) {
      const std::size_t end = at + in.value.size();
      for (std::size_t cut : {at + in.value.size() / 2, end, end + 1, end + 2, end + 8, end + 32}) {
        if (cut <= at || cut >= page.size()) continue;
        if (++starts > kMaxStarts) return Verdict{};
        Sink start = Sink::of(SinkType::kHtml, page.substr(0, cut));
        start.partial = true;
        Verdict v = engine.check_sink(start, c.inputs);
        if (v.attack()) return v;
      }
    }
  }
  return Verdict{};
}

std::string evaluate_line(const Engine& engine, const std::string& line, bool explain,
                          bool html_in_pieces) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return R"({"id":null,"error":"malformed JSON line"})";
  std::string id = id_json(j);
  if (!j.is_object()) return "{\"id\":" + id + ",\"error\":\"a case must be a JSON object\"}";
  try {
    auto type = j.find("type");
    std::string type_name = (type != j.end() && type->is_string()) ? type->get<std::string>() : "";
    if (type_name == "request") return evaluate_request(engine, j, id, explain);
    if (type_name != "sink")
      return "{\"id\":" + id + ",\"error\":\"\\\"type\\\" must be \\\"sink\\\" or \\\"request\\\"\"}";
    SinkCase c;
    std::string error = parse_sink_case(j, &c);
    if (!error.empty()) return "{\"id\":" + id + ",\"error\":" + json_string(error) + "}";
    Verdict v = engine.check_sink(c.sink, c.inputs);
    if (!v.attack() && html_in_pieces && c.sink.type == SinkType::kHtml)
      v = first_partial_attack(engine, c);
    if (!v.attack()) return "{\"id\":" + id + ",\"verdict\":\"clean\"}";
    const Detection& d = v.detections.front();
    std::string out = "{\"id\":" + id + ",\"verdict\":\"attack\",\"rule\":" + json_string(d.rule) +
                      ",\"outcome\":\"exploited\"";
    if (explain) {
      out += ",\"cwe\":" + json_string(d.cwe) + ",\"reason\":" + json_string(d.reason);
      if (d.input < c.inputs.size()) out += ",\"input\":" + json_string(c.inputs[d.input].name);
    }
    return out + "}";
  } catch (const std::exception& e) {
    return "{\"id\":" + id + ",\"error\":" + json_string(e.what()) + "}";
  }
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Read vigil eval cases (JSON Lines) on stdin, write verdicts");
  auto explain = std::make_shared<bool>(false);
  sub->add_flag("--explain", *explain, "Add cwe, reason and input name to attack verdicts");
  auto html_in_pieces = std::make_shared<bool>(false);
  sub->add_flag("--html-in-pieces", *html_in_pieces,
                "Also check each html case's starts that end in or just after an input, as a page "
                "still being written (what the agent checks when a program writes a page in "
                "pieces); attack when any of them is");
  // Eval measures what the detectors decide, so its verdicts must not depend on how busy the
  // machine is: the default budget here is 1 s rather than the product's 1 ms.
  auto budget_us = std::make_shared<int>(1000000);
  sub->add_option("--budget-us", *budget_us, "Per-request analysis budget in microseconds")
      ->check(CLI::Range(10, 1000000))
      ->capture_default_str();
  return {sub, [explain, budget_us, html_in_pieces]() {
            std::ios::sync_with_stdio(false);
            Engine engine;
            std::vector<PolicyDiagnostic> diagnostics;
            engine.set_policy(
                Policy::compile("budget_us: " + std::to_string(*budget_us), &diagnostics));
            std::string line;
            std::string out;
            while (std::getline(std::cin, line)) {
              if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
              out += evaluate_line(engine, line, *explain, *html_in_pieces);
              out += '\n';
              if (out.size() > (1 << 16)) {
                std::fwrite(out.data(), 1, out.size(), stdout);
                out.clear();
              }
            }
            std::fwrite(out.data(), 1, out.size(), stdout);
            std::fflush(stdout);
            return 0;
          }};
}

}  // namespace vigil::cli
