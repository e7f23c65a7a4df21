// A minimal streaming JSON writer for the formatters: commas handled, strings escaped by
// append_json_string (always valid UTF-8), numbers written exactly. Not validated: the
// formatters call it in well-formed order. Internal to src/export.
#ifndef VIGIL_EXPORT_JSON_WRITER_HPP_
#define VIGIL_EXPORT_JSON_WRITER_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "export/text.hpp"

namespace vigil::exports {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  // A key inside an object; the next value call writes its value.
  void key(std::string_view k) {
    comma();
    append_json_string(out_, k);
    out_->push_back(':');
    after_key_ = true;
  }
  void string(std::string_view v) {
    comma();
    append_json_string(out_, v);
  }
  void integer(std::int64_t v) {
    comma();
    out_->append(std::to_string(v));
  }
  void uinteger(std::uint64_t v) {
    comma();
    out_->append(std::to_string(v));
  }
  void boolean(bool v) {
    comma();
    out_->append(v ? "true" : "false");
  }
  // Raw JSON text (a number with a fraction, a nested record already written).
  void raw(std::string_view json) {
    comma();
    out_->append(json);
  }

  // Shorthands for members; the *_nonempty ones skip empty strings.
  void member(std::string_view k, std::string_view v) { key(k), string(v); }
  void member_nonempty(std::string_view k, std::string_view v) {
    if (!v.empty()) member(k, v);
  }
  void member_int(std::string_view k, std::int64_t v) { key(k), integer(v); }
  void member_bool(std::string_view k, bool v) { key(k), boolean(v); }

 private:
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_->push_back(',');
      first_.back() = false;
    }
  }
  void open(char c) {
    comma();
    out_->push_back(c);
    first_.push_back(true);
  }
  void close(char c) {
    out_->push_back(c);
    if (!first_.empty()) first_.pop_back();
  }

  std::string* out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_JSON_WRITER_HPP_
