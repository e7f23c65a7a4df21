// The result of a control-plane operation, shaped for an HTTP answer: OK, or an HTTP status
// with a machine code, a sentence for a person, and the request field at fault when there is
// one. Services return it; api/ turns it into a JSON error.
#ifndef VIGIL_SERVER_COMMON_STATUS_HPP_
#define VIGIL_SERVER_COMMON_STATUS_HPP_

#include <string>
#include <utility>

namespace vigil::server {

class Status {
 public:
  Status() = default;  // OK
  static Status error(int http, std::string code, std::string message, std::string field = {}) {
    Status s;
    s.http_ = http;
    s.code_ = std::move(code);
    s.message_ = std::move(message);
    s.field_ = std::move(field);
    return s;
  }
  bool ok() const noexcept { return http_ < 400; }
  int http() const noexcept { return http_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& field() const noexcept { return field_; }
  int retry_after_s = 0;  // 429 and 503: when to try again

 private:
  int http_ = 200;
  std::string code_, message_, field_;
};

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_STATUS_HPP_
