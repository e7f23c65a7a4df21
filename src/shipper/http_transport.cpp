#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "shipper/transport.hpp"

namespace vigil::shipper {
namespace {

class HttpTransport final : public Transport {
 public:
  HttpTransport(const HttpOptions& o) : options_(o) {}

  Response post(const std::string& path, const std::string& body) noexcept override {
    return call([&](httplib::Client& c) {
      return c.Post(path, headers(), body, "application/json");
    }, options_.timeout);
  }
  Response get(const std::string& path, std::chrono::seconds timeout) noexcept override {
    return call([&](httplib::Client& c) { return c.Get(path, headers()); }, timeout);
  }
  void idle() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    client_for_thread().reset();
  }
  void cancel() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* c : active_) c->stop();
  }

 private:
  httplib::Headers headers() const {
    return {{"Authorization", "Bearer " + options_.key}, {"User-Agent", "vigil-agent/0.1.0"}};
  }

  template <class F>
  Response call(F&& fn, std::chrono::seconds timeout) noexcept {
    Response out;
    try {
      // One client per calling thread (the sender and the policy poller each keep their
      // connection alive).
      auto& client = client_for_thread();
      thread_local std::string client_url;
      if (!client || client_url != options_.url) {
        client = std::make_unique<httplib::Client>(options_.url);
        client_url = options_.url;
        client->set_keep_alive(true);
        client->set_connection_timeout(5, 0);
        client->set_write_timeout(options_.timeout.count(), 0);
        if (!options_.ca_file.empty()) client->set_ca_cert_path(options_.ca_file.c_str());
        client->enable_server_certificate_verification(options_.verify_tls);
      }
      client->set_read_timeout(timeout.count() + 5, 0);
      // Registered for cancel() while the request runs, and unregistered however it ends: a
      // client left behind by an exception would be freed by the next reset and then stopped
      // by cancel() (a use after free that crashed the host at exit).
      struct Active {
        HttpTransport* t;
        httplib::Client* c;
        Active(HttpTransport* transport, httplib::Client* client) : t(transport), c(client) {
          std::lock_guard<std::mutex> lock(t->mu_);
          t->active_.push_back(c);
        }
        ~Active() {
          std::lock_guard<std::mutex> lock(t->mu_);
          auto it = std::find(t->active_.begin(), t->active_.end(), c);
          if (it != t->active_.end()) t->active_.erase(it);
        }
      };
      auto result = [&] {
        Active active(this, client.get());
        return fn(*client);
      }();
      if (!result) {
        out.error = httplib::to_string(result.error());
        client.reset();  // a fresh connection next time
        return out;
      }
      out.status = result->status;
      out.body = result->body;
      if (result->has_header("Retry-After"))
        out.retry_after_s = std::atoi(result->get_header_value("Retry-After").c_str());
    } catch (const std::exception& e) {
      out.error = e.what();
      client_for_thread().reset();
    } catch (...) {
      out.error = "unknown error";
      client_for_thread().reset();
    }
    return out;
  }

  static std::unique_ptr<httplib::Client>& client_for_thread() {
    thread_local std::unique_ptr<httplib::Client> client;
    return client;
  }

  HttpOptions options_;
  std::mutex mu_;
  std::vector<httplib::Client*> active_;  // clients with a request in flight (cancel())
};

}  // namespace

std::unique_ptr<Transport> make_http_transport(const HttpOptions& options, std::string* error) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    *error = "the server URL must start with http:// or https://";
    return nullptr;
  }
  if (options.key.empty()) {
    *error = "an agent key is required (vigil keys create --app NAME)";
    return nullptr;
  }
  std::string url = options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  HttpOptions o = options;
  o.url = url;
  return std::make_unique<HttpTransport>(o);
}

}  // namespace vigil::shipper
