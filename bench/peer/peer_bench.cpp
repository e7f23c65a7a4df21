// Side by side, in one run: the same requests through Vigil's input analysis (libvigil, full
// default policy) and through ModSecurity v3 with the OWASP CRS at paranoia level 1 (Debian's
// libmodsecurity3 and modsecurity-crs), per-request p50/p99 and the ratio.
//
//   build-bench/bin/vigil_peer_bench [--cases FILE] [--limit N]
//
// Scenarios: "eval requests" (every request case of FILE, default
// ../shared/eval/dev/request-cases.jsonl), "typical 1 KB" (a browser GET with cookies and a
// form POST, about 1 KB each, repeated; then each of the two alone), "typical 1 KB, varied"
// (4,000 such requests whose query values, form fields, cookies and Referer all differ: a cold
// memo of clean values), "10 KB JSON body" and "1 MB upload" (multipart). Each request
// is timed from raw parts to verdict: for Vigil RequestContext::parse + PreparedInputs +
// Engine::analyze_request; for ModSecurity a Transaction through processRequestBody.
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Request {
  std::string method, uri, body, client_ip;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Stats {
  double p50_us = 0, p99_us = 0, mean_us = 0;
  std::size_t flagged = 0;
};

Stats summarise(std::vector<double>& us, std::size_t flagged) {
  Stats s;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  s.p50_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  double total = 0;
  for (double v : us) total += v;
  s.mean_us = total / us.size();
  s.flagged = flagged;
  return s;
}

std::vector<Request> load_cases(const std::string& path, std::size_t limit) {
  std::vector<Request> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line) && out.size() < limit) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("type", "") != "request") continue;
    const auto& r = j["request"];
    Request req;
    req.method = r.value("method", "GET");
    req.uri = r.value("uri", "/");
    req.body = r.value("body", "");
    req.client_ip = r.value("client_ip", "127.0.0.1");
    if (r.contains("headers") && r["headers"].is_object())
      for (auto it = r["headers"].begin(); it != r["headers"].end(); ++it)
        if (it.value().is_string()) req.headers.emplace_back(it.key(), it.value().get<std::string>());
    out.push_back(std::move(req));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> browser_headers() {
  return {{"Host", "shop.example.com"},
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
          {"Sec-Fetch-Mode", "navigate"}};
}

std::vector<Request> typical_requests() {
  Request get;
  get.method = "GET";
  get.uri = "/catalog/search?q=desk+lamp+with+usb&category=lighting&min_price=20&max_price=120"
            "&sort=price&dir=asc&page=2&per_page=24&lang=en-GB";
  get.headers = browser_headers();
  get.client_ip = "192.0.2.10";
  Request post = get;
  post.method = "POST";
  post.uri = "/account/address";
  post.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  post.body = std::string("name=Jane+O%27Brien&street=12+Baker+Street&city=London&zip=NW1+6XE&country=GB"
              "&phone=%2B44+20+7946+0958&note=Please+leave+the+parcel+at+the+door%2C+thanks%21"
              "&csrf_token=83c1d68d3f08aa91");
  post.headers.emplace_back("Content-Length", std::to_string(post.body.size()));
  return {get, post};
}

// The typical requests of many visits: every query value, form field, session cookie and
// Referer differs from one request to the next; only what a browser repeats by itself (its
// User-Agent and Accept headers) stays. Nothing here is in Vigil's memo of clean values twice
// except those headers.
std::vector<Request> typical_requests_varied(std::size_t n) {
  static const char* const kWords[] = {"desk", "lamp", "usb", "oak", "shelf", "brass", "led",
                                       "table", "chair", "green", "walnut", "cable", "hook"};
  std::vector<Request> out;
  const std::vector<Request> base = typical_requests();
  for (std::size_t i = 0; i < n; ++i) {
    Request r = base[i % 2];
    const std::string n1 = std::to_string(i), n2 = std::to_string(i * 7919 % 100003);
    for (auto& [name, value] : r.headers) {
      if (name == "Cookie")
        value = "sessionid=4eb7a23f" + n2 + "c0a1" + n1 + "; csrftoken=83c1" + n1 +
                "aa91; theme=dark; currency=EUR; consent=analytics%3Dno%26ads%3Dno";
      if (name == "Referer")
        value = "https://shop.example.com/catalog/" + std::string(kWords[i % 13]) + "?page=" +
                std::to_string(i % 40) + "&sort=price&v=" + n2;
    }
    if (r.method == "GET") {
      r.uri = std::string("/catalog/search?q=") + kWords[i % 13] + "+" + kWords[(i / 13) % 13] +
              "+" + n2 + "&category=lighting&min_price=" + std::to_string(i % 90) +
              "&max_price=" + std::to_string(100 + i % 400) + "&sort=price&dir=asc&page=" +
              std::to_string(1 + i % 30) + "&per_page=24&lang=en-GB&ref=" + n1;
    } else {
      r.body = "name=Jane+O%27Brien+" + n1 + "&street=" + n2 + "+Baker+Street&city=London&zip=NW1+" +
               n2 + "&country=GB&phone=%2B44+20+" + n2 + "&note=Please+leave+the+parcel+at+the+" +
               kWords[i % 13] + "%2C+thanks%21+" + n1 + "&csrf_token=83c1" + n1 + "aa91";
      for (auto& [name, value] : r.headers)
        if (name == "Content-Length") value = std::to_string(r.body.size());
    }
    out.push_back(std::move(r));
  }
  return out;
}

Request json_request() {
  Request r;
  r.method = "POST";
  r.uri = "/api/v1/orders";
  r.headers = browser_headers();
  r.headers.emplace_back("Content-Type", "application/json");
  r.client_ip = "192.0.2.11";
  std::string body = "{\"customer\":{\"name\":\"Jane O'Brien\",\"email\":\"jane@example.com\"},\"items\":[";
  for (int i = 0; body.size() < 10000; ++i) {
    if (i) body += ",";
    body += "{\"sku\":\"LMP-" + std::to_string(1000 + i) +
            "\",\"qty\":2,\"note\":\"gift wrap, please - it's for my mother's birthday\",\"price\":49.90}";
  }
  body += "]}";
  r.body = body;
  r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
  return r;
}

Request upload_request() {
  Request r;
  r.method = "POST";
  r.uri = "/account/avatar";
  r.headers = browser_headers();
  r.headers.emplace_back("Content-Type", "multipart/form-data; boundary=----vigilbench");
  r.client_ip = "192.0.2.12";
  std::string file(1 << 20, '\0');
  for (std::size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>("ABCDEFGHIJKLMNOP"[(i * 7) % 16]);
  r.body = "------vigilbench\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy avatar\r\n"
           "------vigilbench\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\n"
           "Content-Type: image/png\r\n\r\n" + file + "\r\n------vigilbench--\r\n";
  r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
  return r;
}

class Vigil {
 public:
  explicit Vigil(bool memo = true) : engine_(options(memo)) {}
  bool run(const Request& r) {
    headers_.clear();
    for (const auto& [n, v] : r.headers) headers_.push_back(vigil::Header{n, v});
    ctx_.parse(vigil::HttpRequest{r.method, r.uri, headers_, r.body, r.client_ip});
    prepared_.reset(ctx_.inputs());
    return engine_.analyze_request(ctx_, prepared_).attack();
  }
  std::size_t context_bytes() const { return ctx_.memory_bytes(); }

 private:
  static vigil::EngineOptions options(bool memo) {
    vigil::EngineOptions o;
    o.remember_clean_inputs = memo;
    return o;
  }
  vigil::Engine engine_;
  vigil::RequestContext ctx_;
  vigil::PreparedInputs prepared_;
  std::vector<vigil::Header> headers_;
};

class ModSecurity {
 public:
  bool load() {
    modsec_ = std::make_unique<modsecurity::ModSecurity>();
    // Findings are counted through interventions; the text log would dominate the timing.
    modsec_->setServerLogCb([](void*, const void*) {}, modsecurity::RuleMessageLogProperty);
    rules_ = std::make_unique<modsecurity::RulesSet>();
    const char* config =
        "SecRuleEngine On\n"
        "SecRequestBodyAccess On\n"
        "SecRequestBodyLimit 13107200\n"
        "SecRequestBodyNoFilesLimit 1048576\n"
        "SecRequestBodyLimitAction ProcessPartial\n"
        "SecRule REQUEST_HEADERS:Content-Type \"^application/json\" "
        "\"id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
        "SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" "
        "\"id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
        // owasp-crs.load uses IncludeOptional, which libmodsecurity v3 lacks: load its parts.
        "Include /etc/modsecurity/crs/crs-setup.conf\n"
        "Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf\n"
        "Include /usr/share/modsecurity-crs/rules/*.conf\n"
        "Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf\n";
    if (rules_->load(config) < 0) {
      std::fprintf(stderr, "ModSecurity rules failed to load: %s\n", rules_->getParserError().c_str());
      return false;
    }
    return true;
  }
  bool run(const Request& r) {
    modsecurity::Transaction t(modsec_.get(), rules_.get(), nullptr);
    t.processConnection(r.client_ip.c_str(), 40000, "127.0.0.1", 80);
    t.processURI(r.uri.c_str(), r.method.c_str(), "1.1");
    for (const auto& [n, v] : r.headers)
      t.addRequestHeader(n, v);
    t.processRequestHeaders();
    if (!r.body.empty())
      t.appendRequestBody(reinterpret_cast<const unsigned char*>(r.body.data()), r.body.size());
    t.processRequestBody();
    modsecurity::ModSecurityIntervention it;
    modsecurity::intervention::clean(&it);
    bool blocked = t.intervention(&it);
    modsecurity::intervention::free(&it);
    return blocked;
  }

 private:
  std::unique_ptr<modsecurity::ModSecurity> modsec_;
  std::unique_ptr<modsecurity::RulesSet> rules_;
};

template <typename Runner>
Stats measure(Runner& runner, const std::vector<Request>& requests, int rounds) {
  std::vector<double> us;
  std::size_t flagged = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const Request& r : requests) {
      auto t0 = Clock::now();
      bool f = runner.run(r);
      auto t1 = Clock::now();
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      if (round == 0) flagged += f;
    }
  }
  return summarise(us, flagged);
}

void row(const char* name, std::size_t n, const Stats& v, const Stats& m) {
  std::printf("%-22s %7zu  %9.2f %9.2f  %10.1f %10.1f  %8.0fx %8.0fx\n", name, n, v.p50_us, v.p99_us,
              m.p50_us, m.p99_us, m.p50_us / std::max(v.p50_us, 1e-3), m.p99_us / std::max(v.p99_us, 1e-3));
}

}  // namespace

int main(int argc, char** argv) {
  std::string cases = "../shared/eval/dev/request-cases.jsonl";
  std::size_t limit = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--cases") cases = argv[i + 1];
    else if (a == "--limit") limit = std::stoul(argv[i + 1]);
  }
  ModSecurity modsec;
  if (!modsec.load()) return 1;
  Vigil vigil;

  struct Scenario {
    const char* name;
    std::vector<Request> requests;
    int vigil_rounds, modsec_rounds;
  };
  std::vector<Scenario> scenarios;
  auto eval = load_cases(cases, limit);
  if (!eval.empty()) scenarios.push_back({"eval requests", eval, 3, 1});
  scenarios.push_back({"typical 1 KB", typical_requests(), 5000, 200});
  // The row above alternates the two, so its p50 sits where their times meet: each alone too.
  scenarios.push_back({"  the GET alone", {typical_requests()[0]}, 10000, 200});
  scenarios.push_back({"  the POST alone", {typical_requests()[1]}, 10000, 200});
  scenarios.push_back({"typical 1 KB, varied", typical_requests_varied(4000), 3, 1});
  scenarios.push_back({"10 KB JSON body", {json_request()}, 2000, 50});
  scenarios.push_back({"1 MB upload", {upload_request()}, 50, 5});

  std::printf("per-request latency in microseconds; ratio = ModSecurity / Vigil\n");
  std::printf("%-22s %7s  %9s %9s  %10s %10s  %9s %9s\n", "scenario", "reqs", "vigil p50", "p99",
              "modsec p50", "p99", "p50 ratio", "p99 ratio");
  for (auto& s : scenarios) {
    // Warm both (page faults, caches), then measure.
    measure(vigil, s.requests, 1);
    measure(modsec, s.requests, 1);
    Stats v = measure(vigil, s.requests, s.vigil_rounds);
    Stats m = measure(modsec, s.requests, s.modsec_rounds);
    row(s.name, s.requests.size(), v, m);
    if (&s == &scenarios.front() && !eval.empty())
      std::printf("%-22s flagged: vigil %zu, modsecurity %zu of %zu\n", "", v.flagged, m.flagged,
                  s.requests.size());
  }
  {
    // The same requests with the memo of clean values off: every value analysed every time.
    Vigil cold(false);
    for (const auto& [name, reqs, rounds] :
         {std::tuple{"typical 1 KB", typical_requests(), 5000},
          std::tuple{"typical 1 KB, varied", typical_requests_varied(4000), 3}}) {
      measure(cold, reqs, 1);
      Stats v = measure(cold, reqs, rounds);
      std::printf("%-22s %7zu  %9.2f %9.2f  (vigil without its memo of clean values)\n", name,
                  reqs.size(), v.p50_us, v.p99_us);
    }
  }
  vigil.run(typical_requests()[1]);
  std::printf("vigil request context memory after a typical POST: %zu bytes\n", vigil.context_bytes());
  vigil.run(json_request());
  std::printf("vigil request context memory after the 10 KB JSON body: %zu bytes\n", vigil.context_bytes());
  return 0;
}
