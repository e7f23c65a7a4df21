// Sink analysis hot paths. The targets (issue 2): a 200-byte SQL query with 10 short inputs
// and no occurrence <= 200 ns; the same with one occurring input <= 1.5 us.
//   build-bench/bin/vigil_micro_bench --benchmark_filter=Sink
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace {

// A realistic 200-byte statement of an e-commerce application.
const std::string kQuery =
    "SELECT p.id, p.name, p.price, p.stock, c.title FROM products p JOIN categories c ON "
    "c.id = p.category_id WHERE p.visible = 1 AND p.name LIKE '%lamp%' AND p.price < 120 "
    "ORDER BY p.price DESC LIMIT 20";

// Ten short inputs a request to such a page carries, none of which occurs in kQuery verbatim
// except where a benchmark says so.
std::vector<vigil::Input> ten_inputs(std::string_view occurring) {
  static const char* const kValues[] = {"desk lamp", "42",    "rating", "asc",     "en-GB",
                                        "b7e1d2aa", "true",  "1 OR 1", "dark",    "EUR"};
  static const char* const kNames[] = {"q", "page", "sort", "dir", "lang",
                                       "session", "stock", "id", "theme", "currency"};
  std::vector<vigil::Input> inputs;
  for (int i = 0; i < 10; ++i)
    inputs.push_back({vigil::Source::kQuery, kNames[i], kValues[i]});
  if (!occurring.empty()) inputs[0].value = occurring;
  return inputs;
}

void report_allocations(benchmark::State& state, std::size_t before) {
  state.counters["allocs/iter"] = benchmark::Counter(
      static_cast<double>(vigil::bench::g_allocations.load() - before) /
      static_cast<double>(state.iterations()));
}

void BM_SinkSqlNoOccurrence(benchmark::State& state) {
  vigil::Engine engine;
  auto inputs = ten_inputs({});
  vigil::PreparedInputs prepared(inputs);
  vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kMysql, kQuery);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
  state.SetLabel(std::to_string(kQuery.size()) + "-byte query, 10 inputs");
}
BENCHMARK(BM_SinkSqlNoOccurrence);

// One input occurs, inside the LIKE literal (benign): tokenize and judge, clean verdict.
void BM_SinkSqlBenignOccurrence(benchmark::State& state) {
  vigil::Engine engine;
  auto inputs = ten_inputs("lamp");
  vigil::PreparedInputs prepared(inputs);
  vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kMysql, kQuery);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_SinkSqlBenignOccurrence);

// One input occurs and is an injection: tokenize, judge and build the explanation.
void BM_SinkSqlInjection(benchmark::State& state) {
  vigil::Engine engine;
  std::string attack = "lamp' OR 1=1-- ";
  std::string query = kQuery;
  query.replace(query.find("lamp"), 4, attack);
  auto inputs = ten_inputs(attack);
  vigil::PreparedInputs prepared(inputs);
  vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kMysql, query);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared);
    if (!v.attack()) state.SkipWithError("injection not detected");
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_SinkSqlInjection);

// The demo shop's search (examples/shop, GET /search?q=lamp under bench/agent): its SQLite query
// with the inputs of that request (the path segment, q, the User-Agent); one benign occurrence
// inside a LIKE literal. The sink check of issue 4's per-request budget.
void BM_SinkSqlShopSearch(benchmark::State& state) {
  vigil::Engine engine;
  const vigil::Header headers[] = {{"Host", "127.0.0.1:8080"}, {"User-Agent", "vigil-bench"}};
  vigil::RequestContext request;
  request.parse(vigil::HttpRequest{"GET", "/search?q=lamp", headers, "", "127.0.0.1"});
  vigil::PreparedInputs prepared(request.inputs());
  const std::string query =
      "SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%lamp%' ORDER BY id";
  vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kSqlite, query);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared, &request);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_SinkSqlShopSearch);

// Preparing the inputs of a request (decoded forms), done once per request.
void BM_PrepareTenInputs(benchmark::State& state) {
  auto inputs = ten_inputs({});
  vigil::PreparedInputs prepared(inputs);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    prepared.reset(inputs);
    benchmark::ClobberMemory();
  }
  report_allocations(state, before);
}
BENCHMARK(BM_PrepareTenInputs);

// Linear time on hostile sizes: a 1 MB statement with the input at its end.
void BM_SinkSqlOneMegabyte(benchmark::State& state) {
  vigil::Engine engine;
  std::string attack = "x' OR 'a'='a";
  std::string query = "SELECT * FROM t WHERE a IN (";
  while (query.size() < (1 << 20)) query += "'lamp', 1, ";
  query += "'" + attack + "')";
  auto inputs = ten_inputs(attack);
  vigil::PreparedInputs prepared(inputs);
  vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kSqlite, query);
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * query.size()));
}
BENCHMARK(BM_SinkSqlOneMegabyte)->Unit(benchmark::kMillisecond);

// A shop's page: `top`, then product rows up to `size` bytes, then its end.
std::string shop_page(const std::string& top, std::size_t size) {
  std::string page = "<!DOCTYPE html><html><head><title>Shop</title></head><body>" + top + "<ul>";
  while (page.size() < size)
    page += "<li class=\"item\"><a href=\"/product?id=7\">Oak desk</a> <b>19.90</b></li>";
  return page + "</ul></body></html>";
}

// The XSS check of `page` for the one input `value`, which must be convicted or not as `attack`
// says (Range: the page's length in bytes).
void check_page(benchmark::State& state, const std::string& page, std::string_view value,
                bool attack) {
  vigil::Engine engine;
  const vigil::Input inputs[] = {{vigil::Source::kQuery, "q", value}};
  vigil::PreparedInputs prepared(inputs);
  vigil::Sink sink = vigil::Sink::of(vigil::SinkType::kHtml, page);
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    vigil::Verdict v = engine.check_sink(sink, prepared);
    if (v.attack() != attack) state.SkipWithError(attack ? "injection not detected" : "convicted");
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
  state.SetLabel(std::to_string(page.size()) + "-byte page");
}

// A page that greets the user near its top: the input stays text. The check reads the page up
// to the greeting.
void BM_SinkHtmlGreeting(benchmark::State& state) {
  check_page(state, shop_page("<nav>Hello, Ada!</nav>", state.range(0)), "Ada", false);
}
BENCHMARK(BM_SinkHtmlGreeting)->Arg(200)->Arg(100 << 10);

// A search page that echoes the query into its search box near the top: the input stays in the
// attribute's value. The check reads the page up to the end of that tag.
void BM_SinkHtmlSearchBox(benchmark::State& state) {
  check_page(state,
             shop_page("<form><input name=\"q\" value=\"desk lamp\"></form>", state.range(0)),
             "desk lamp", false);
}
BENCHMARK(BM_SinkHtmlSearchBox)->Arg(200)->Arg(100 << 10);

// The greeting with the input as an injected element: the whole page is read and compared.
void BM_SinkHtmlInjection(benchmark::State& state) {
  const std::string attack = "<img src=x onerror=alert(1)>";
  check_page(state, shop_page("<nav>Hello, " + attack + "!</nav>", state.range(0)), attack, true);
}
BENCHMARK(BM_SinkHtmlInjection)->Arg(200)->Arg(100 << 10);

}  // namespace

BENCHMARK_MAIN();
