// JSON bodies: every scalar becomes an input named by its key path ("user.address[0].street").
// RapidJSON's iterative SAX reader keeps deep nesting off the call stack, so a deep document is
// read to its end; nesting beyond the depth limit is reported, and the values below it are still
// inputs (named by a cut path): Python reads about a thousand levels, and a program that walks a
// nested filter to build its SQL reads them all.
#include <charconv>
#include <vector>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "core/common/ascii.hpp"
#include "core/context/input_builder.hpp"
#include "core/decode/decode.hpp"

namespace vigil::context {
namespace {

class FlattenHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, FlattenHandler> {
 public:
  explicit FlattenHandler(InputBuilder* b) : b_(b) {}

  bool Null() { return scalar("null"); }
  bool Bool(bool v) { return scalar(v ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return scalar({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return scalar({s, n}); }

  bool StartObject() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(true); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (frames_.empty()) return true;
    path_.resize(frames_.back().path_size);
    if (!path_.empty()) append_capped(".");
    append_capped({s, n});
    return true;
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;      // next element index (arrays)
    std::size_t path_size;  // length of this container's own path
  };


  void append_capped(std::string_view piece) {
    std::size_t cap = b_->limits().max_key_path_bytes;
    if (path_.size() + piece.size() > cap) {
      piece = piece.substr(0, cap > path_.size() ? cap - path_.size() : 0);
      if (!path_reported_) {
        path_reported_ = true;
        b_->flag(kAnomalyLimitHit);
        b_->diagnose("limit.key_path", "a JSON key path is longer than " + std::to_string(cap) +
                                           " bytes; it was cut");
      }
    }
    path_.append(piece);
  }

  // A value inside an array is named by its index: "items[3]".
  void element_path() {
    if (frames_.empty() || !frames_.back().array) return;
    Frame& f = frames_.back();
    path_.resize(f.path_size);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, f.index++);
    append_capped("[");
    append_capped(std::string_view(digits, end - digits));
    append_capped("]");
  }

  bool scalar(std::string_view value) {
    element_path();
    Ref name = b_->copy(path_);
    return b_->add(Source::kJson, name, b_->copy(value));
  }

  bool open(bool array) {
    element_path();
    if (frames_.size() == b_->limits().max_json_depth && !depth_reported_) {
      depth_reported_ = true;
      b_->flag(kAnomalyLimitHit);
      b_->diagnose("limit.json_depth", "JSON nesting is deeper than " +
                                           std::to_string(b_->limits().max_json_depth) +
                                           " levels; the values below are named by a cut path");
    }
    frames_.push_back(Frame{array, 0, path_.size()});
    return true;
  }

  bool close() {
    if (!frames_.empty()) frames_.pop_back();
    if (!frames_.empty()) path_.resize(frames_.back().path_size);
    return true;
  }

  InputBuilder* b_;
  std::string path_;
  std::vector<Frame> frames_;
  bool depth_reported_ = false;
  bool path_reported_ = false;
};

// After RapidJSON stopped at a fault that Python's json.loads or JavaScript's JSON.parse read
// past (a lone surrogate "\ud800", a number like 1e999): the strings from the one the fault is
// in to the end, each named by the last key before it. Without them a body that put such a
// value before the injection hid the injection. Linear: one pass, each string unescaped once.
void add_strings_after(std::string_view body, std::size_t fault, InputBuilder* b) {
  std::string_view key;
  std::string key_text, unescaped;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '"') continue;
    std::size_t end = i + 1;
    while (end < body.size() && body[end] != '"') end += body[end] == '\\' ? 2 : 1;
    if (end >= body.size()) return;  // a string that does not end: the whole body has it
    std::string_view raw = body.substr(i + 1, end - i - 1);
    std::string_view text = decode::json_unescape(raw, &unescaped) ? std::string_view(unescaped) : raw;
    std::size_t next = end + 1;
    while (next < body.size() && common::is_space(body[next])) ++next;
    if (next < body.size() && body[next] == ':') {
      key_text.assign(text.substr(0, b->limits().max_key_path_bytes));  // as key paths are cut
      key = key_text;
    } else if (end >= fault) {
      if (!b->add(Source::kJson, b->copy(key), b->copy(text))) return;
    }
    i = end;
  }
}

}  // namespace

void parse_json_body(std::string_view body, InputBuilder* b, bool sniffed) {
  // Python's json.loads (hence Flask's get_json) reads a body that starts with a UTF-8 byte order
  // mark; RapidJSON would stop at it, and the values would be one unread input.
  body = after_bom(body);
  FlattenHandler handler(b);
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(body.data(), body.size());
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseNanAndInfFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(ms, handler);
  if (!ok && ok.Code() != rapidjson::kParseErrorTermination && !sniffed) {
    b->flag(kAnomalyBodyMismatch);
    b->diagnose("malformed.json", std::string("the JSON body is malformed at byte ") +
                                      std::to_string(ok.Offset()) + ": " +
                                      rapidjson::GetParseError_En(ok.Code()) +
                                      "; the whole body is analysed as one input");
    // Nothing lost: what the parser could not read is still looked at.
    b->add(Source::kBody, std::string_view(), body);
    add_strings_after(body, ok.Offset(), b);
  }
}

}  // namespace vigil::context
