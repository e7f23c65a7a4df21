// HTTP(S) POST with cpp-httplib (OpenSSL): webhooks, Splunk HEC, Slack.
#include <httplib.h>

#include "export/transport.hpp"

namespace vigil::exports {
namespace {

// "https://host:port/path?q" -> scheme+authority, path+query.
bool split_url(const std::string& url, std::string* origin, std::string* target) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::size_t slash = url.find('/', scheme + 3);
  *origin = url.substr(0, slash);
  *target = slash == std::string::npos ? "/" : url.substr(slash);
  return origin->size() > scheme + 3;
}

int parse_retry_after_ms(const std::string& v) {
  if (v.empty() || v.size() > 6) return 0;
  int s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;  // an HTTP date: ignored, our backoff applies
    s = s * 10 + (c - '0');
  }
  return std::min(s, 300) * 1000;
}

class HttpTransport : public Transport {
 public:
  HttpTransport(const HttpOptions& o, std::string origin, std::string target)
      : options_(o), origin_(std::move(origin)), target_(std::move(target)) {}

  SendResult send(const std::vector<std::string>& records,
                  std::chrono::milliseconds timeout) noexcept override {
    try {
      return post(records, timeout);
    } catch (const std::exception& e) {
      client_.reset();
      return SendResult::retry(std::string("HTTP client: ") + e.what());
    }
  }
  void close() noexcept override { client_.reset(); }

 private:
  SendResult post(const std::vector<std::string>& records, std::chrono::milliseconds timeout) {
    if (!client_) {
      client_ = std::make_unique<httplib::Client>(origin_);
      client_->set_keep_alive(true);
      if (!options_.tls.verify) client_->enable_server_certificate_verification(false);
      else client_->enable_server_certificate_verification(true);
      if (!options_.tls.ca_file.empty()) client_->set_ca_cert_path(options_.tls.ca_file.c_str());
      if (!options_.tls.cert_file.empty()) {
        // Mutual TLS is configured through the SSL context httplib exposes.
        SSL_CTX* ctx = client_->ssl_context();
        if (ctx) {
          SSL_CTX_use_certificate_chain_file(ctx, options_.tls.cert_file.c_str());
          SSL_CTX_use_PrivateKey_file(
              ctx, (options_.tls.key_file.empty() ? options_.tls.cert_file : options_.tls.key_file).c_str(),
              SSL_FILETYPE_PEM);
        }
      }
    }
    auto secs = static_cast<time_t>(timeout.count() / 1000);
    auto usecs = static_cast<time_t>((timeout.count() % 1000) * 1000);
    client_->set_connection_timeout(secs, usecs);
    client_->set_read_timeout(secs, usecs);
    client_->set_write_timeout(secs, usecs);

    std::string body;
    switch (options_.body) {
      case HttpOptions::Body::kJsonArray:
        body.push_back('[');
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (i) body.push_back(',');
          body += records[i];
        }
        body.push_back(']');
        break;
      case HttpOptions::Body::kConcatenated:
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (i) body.push_back('\n');
          body += records[i];
        }
        break;
      case HttpOptions::Body::kJsonSingle:
        // One record per POST: the exporter batches by one.
        for (const auto& r : records) {
          SendResult res = post_body(r);
          if (res.kind != SendResult::Kind::kOk) return res;
        }
        return SendResult::ok();
    }
    return post_body(body);
  }

  SendResult post_body(const std::string& body) {
    httplib::Headers headers = {{"User-Agent", "vigild-export/0.1.0"}};
    if (!options_.authorization.empty()) headers.emplace("Authorization", options_.authorization);
    auto res = client_->Post(target_.c_str(), headers, body, "application/json");
    if (!res) {
      std::string e = "POST " + origin_ + ": " + httplib::to_string(res.error());
      client_.reset();
      return SendResult::retry(e);
    }
    int status = res->status;
    if (status >= 200 && status < 300) return SendResult::ok();
    std::string e = "POST " + origin_ + " answered " + std::to_string(status);
    if (status == 413) return {SendResult::Kind::kTooLarge, e, 0};
    if (status == 400 || status == 422) return SendResult::reject(e);
    return SendResult::retry(e, parse_retry_after_ms(res->get_header_value("Retry-After")));
  }

  HttpOptions options_;
  std::string origin_, target_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace

std::unique_ptr<Transport> make_http_transport(const HttpOptions& options, std::string* error) {
  std::string origin, target;
  if (!split_url(options.url, &origin, &target)) {
    *error = "not an http(s) URL";
    return nullptr;
  }
  return std::make_unique<HttpTransport>(options, origin, target);
}

}  // namespace vigil::exports
