// Input analysis of whole requests: parse, prepare the input forms, analyse under the default
// policy. The target (issue 3): <= 3 us p50 for a typical 1 KB request. SmallGet is the agent
// benchmark's 70-byte request (issue 4).
//   build-bench/bin/vigil_micro_bench --benchmark_filter=Request
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"
#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace {

struct Owned {
  std::string method, uri, body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Owned typical_get() {
  return Owned{"GET",
               "/catalog/search?q=desk+lamp+with+usb&category=lighting&min_price=20&max_price=120"
               "&sort=price&dir=asc&page=2&per_page=24&lang=en-GB",
               "",
               {{"Host", "shop.example.com"},
                {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                               "Chrome/126.0.0.0 Safari/537.36"},
                {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"},
                {"Accept-Language", "en-GB,en;q=0.9,de;q=0.8"},
                {"Accept-Encoding", "gzip, deflate, br"},
                {"Referer", "https://shop.example.com/catalog/lamps?page=2&sort=price"},
                {"Cookie", "sessionid=4eb7a23feb4774d9c0a1; csrftoken=83c1d68d3f08aa91; theme=dark; "
                           "currency=EUR; consent=analytics%3Dno%26ads%3Dno"},
                {"Connection", "keep-alive"},
                {"Upgrade-Insecure-Requests", "1"},
                {"Sec-Fetch-Dest", "document"},
                {"Sec-Fetch-Mode", "navigate"}}};
}

Owned typical_post() {
  Owned r = typical_get();
  r.method = "POST";
  r.uri = "/account/address";
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.body = "name=Jane+O%27Brien&street=12+Baker+Street&city=London&zip=NW1+6XE&country=GB"
           "&phone=%2B44+20+7946+0958&note=Please+leave+the+parcel+at+the+door%2C+thanks%21"
           "&csrf_token=83c1d68d3f08aa91";
  return r;
}

// The agent overhead benchmark's request (bench/agent: wrk against the demo shop), as the
// agent hands it over: repeated, so the clean-input memo knows its values.
Owned small_get() {
  return Owned{"GET",
               "/search?q=lamp",
               "",
               {{"Host", "127.0.0.1:8080"}, {"Accept-Encoding", "identity"}, {"User-Agent", "wrk"}}};
}

void run(benchmark::State& state, const Owned& r, std::string_view peer = "192.0.2.10") {
  std::vector<vigil::Header> headers;
  std::size_t bytes = r.method.size() + r.uri.size() + r.body.size();
  for (const auto& [n, v] : r.headers) {
    headers.push_back(vigil::Header{n, v});
    bytes += n.size() + v.size() + 4;
  }
  vigil::Engine engine;
  vigil::RequestContext ctx;
  vigil::PreparedInputs prepared;
  vigil::HttpRequest req{r.method, r.uri, headers, r.body, peer};
  std::size_t before = vigil::bench::g_allocations.load();
  for (auto _ : state) {
    ctx.parse(req);
    prepared.reset(ctx.inputs());
    vigil::RequestVerdict v = engine.analyze_request(ctx, prepared);
    if (v.attack()) {
      state.SkipWithError(("benign request flagged: " + v.findings[0].rule + ": " + v.findings[0].reason).c_str());
      break;
    }
    benchmark::DoNotOptimize(v);
  }
  state.counters["allocs/iter"] = benchmark::Counter(
      static_cast<double>(vigil::bench::g_allocations.load() - before) / state.iterations());
  state.counters["inputs"] = static_cast<double>(ctx.inputs().size());
  state.counters["ctx_bytes"] = static_cast<double>(ctx.memory_bytes());
  state.SetLabel(std::to_string(bytes) + " bytes");
}

void BM_RequestTypicalGet(benchmark::State& state) { run(state, typical_get()); }
BENCHMARK(BM_RequestTypicalGet);
void BM_RequestTypicalPost(benchmark::State& state) { run(state, typical_post()); }
BENCHMARK(BM_RequestTypicalPost);
void BM_RequestSmallGet(benchmark::State& state) { run(state, small_get(), "127.0.0.1"); }
BENCHMARK(BM_RequestSmallGet);

}  // namespace
