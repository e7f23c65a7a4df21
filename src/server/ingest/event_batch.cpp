#include "server/ingest/event_batch.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "server/common/json.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"

namespace vigil::server::ingest {
namespace {

using rapidjson::Value;

constexpr std::int64_t kFutureSlackMs = 5 * 60 * 1000;

struct Field {
  const char* name;
  std::size_t max;
};

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == ':';
}

bool valid_event_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), id_char);
}

bool valid_rule(std::string_view r) {
  return !r.empty() && r.size() <= 128 &&
         std::all_of(r.begin(), r.end(), [](char c) { return id_char(c) || c == '/'; });
}

class Validator {
 public:
  Validator(std::size_t index) : prefix_("events[" + std::to_string(index) + "]") {}

  // Reads an optional string member of `obj` into *out; false (and the error) when the member
  // is present but not a string, or longer than `max`.
  bool str(const Value& obj, const char* name, std::size_t max, std::string* out,
           const char* parent = nullptr) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return true;
    if (!it->value.IsString()) return fail(parent, name, "must be a string");
    if (it->value.GetStringLength() > max)
      return fail(parent, name, "is longer than " + std::to_string(max) + " bytes");
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  }
  // An optional object member; *out null when absent.
  bool obj(const Value& parent, const char* name, const Value** out) {
    *out = nullptr;
    auto it = parent.FindMember(name);
    if (it == parent.MemberEnd() || it->value.IsNull()) return true;
    if (!it->value.IsObject()) return fail(nullptr, name, "must be an object");
    *out = &it->value;
    return true;
  }
  bool fail(const char* parent, const char* name, const std::string& why) {
    field_ = prefix_ + (parent ? std::string(".") + parent : "") + "." + name;
    message_ = field_ + ": " + why;
    return false;
  }
  Status status() const { return Status::error(400, "bad_event", message_, field_); }

 private:
  std::string prefix_, field_, message_;
};

// One pass over a batch body before RapidJSON sees it: the nesting depth (brackets outside
// strings, as json_depth) and strict UTF-8 (RFC 3629: no overlong forms, surrogates or code
// points past U+10FFFF). A table lookup per byte; RapidJSON's own encoding validation, a
// decoder call per character, cost four times as much as the rest of the parse.
enum ByteClass : unsigned char { kPlain, kQuote, kEscape, kOpen, kClose, kNul, kHigh, kSpace };

constexpr std::array<unsigned char, 256> kByteClass = [] {
  std::array<unsigned char, 256> t{};
  t['"'] = kQuote;
  t[' '] = t['\t'] = t['\n'] = t['\r'] = kSpace;
  t['\\'] = kEscape;
  t['['] = t['{'] = kOpen;
  t[']'] = t['}'] = kClose;
  t[0] = kNul;  // never valid JSON; and the in-place parse would stop there
  for (int c = 0x80; c < 0x100; ++c) t[c] = kHigh;
  return t;
}();

// Length of the valid UTF-8 sequence starting at p[0] (a byte >= 0x80), or 0.
std::size_t utf8_sequence(const unsigned char* p, std::size_t left) {
  unsigned char c = p[0];
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < left && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// An error reply, or ok. *compact: no whitespace outside strings.
Status scan_body(std::string_view body, bool* compact) {
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  const std::size_t n = body.size();
  std::size_t depth = 0;
  bool in_string = false, spaced = false;
  for (std::size_t i = 0;;) {
    while (i < n && kByteClass[p[i]] == kPlain) ++i;  // most bytes: a tight loop
    if (i >= n) break;
    switch (kByteClass[p[i]]) {
      case kSpace:
        spaced |= !in_string;
        ++i;
        break;
      case kQuote: in_string = !in_string; ++i; break;
      case kEscape: i += in_string ? 2 : 1; break;  // the escaped byte is ASCII or fails below
      case kOpen:
        if (!in_string && ++depth > kMaxJsonDepth)
          return Status::error(400, "bad_json", "JSON nested deeper than " +
                                                    std::to_string(kMaxJsonDepth) + " levels");
        ++i;
        break;
      case kClose:
        if (!in_string && depth > 0) --depth;
        ++i;
        break;
      case kNul:
        return Status::error(400, "bad_json",
                             "invalid JSON at byte " + std::to_string(i) + ": a NUL byte");
      default: {
        std::size_t len = utf8_sequence(p + i, n - i);
        if (len == 0)
          return Status::error(400, "bad_json",
                               "invalid JSON at byte " + std::to_string(i) + ": invalid UTF-8");
        i += len;
      }
    }
  }
  *compact = !spaced;
  return {};
}

// Builds the document like GenericDocument::ParseInsitu, and notes where each object element of
// the top-level array starts and ends in the text (the reader calls StartObject at its '{' and
// EndObject at its '}'), so that an event can be stored as the bytes it came in.
class SpanHandler {
 public:
  using Ch = char;
  SpanHandler(rapidjson::Document* doc, rapidjson::InsituStringStream* in,
              std::vector<std::pair<std::size_t, std::size_t>>* spans)
      : doc_(doc), in_(in), spans_(spans) {}
  bool Null() { return doc_->Null(); }
  bool Bool(bool b) { return doc_->Bool(b); }
  bool Int(int i) { return doc_->Int(i); }
  bool Uint(unsigned i) { return doc_->Uint(i); }
  bool Int64(std::int64_t i) { return doc_->Int64(i); }
  bool Uint64(std::uint64_t i) { return doc_->Uint64(i); }
  bool Double(double d) { return doc_->Double(d); }
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool copy) {
    return doc_->RawNumber(s, n, copy);
  }
  bool String(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_->String(s, n, copy); }
  bool Key(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_->Key(s, n, copy); }
  bool StartObject() {
    if (depth_++ == 1) start_ = in_->Tell();
    return doc_->StartObject();
  }
  bool EndObject(rapidjson::SizeType n) {
    if (--depth_ == 1) spans_->emplace_back(start_, in_->Tell() + 1);
    return doc_->EndObject(n);
  }
  bool StartArray() {
    ++depth_;
    return doc_->StartArray();
  }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_->EndArray(n);
  }

 private:
  rapidjson::Document* doc_;
  rapidjson::InsituStringStream* in_;  // Tell() is not const
  std::vector<std::pair<std::size_t, std::size_t>>* spans_;
  std::size_t depth_ = 0, start_ = 0;
};

}  // namespace

const char* outcome_name(int rank) noexcept {
  switch (rank) {
    case kExploited: return "exploited";
    case kBlocked: return "blocked";
    case kProbed: return "probed";
    default: return "suspicious";
  }
}

int outcome_rank(std::string_view name) noexcept {
  if (name == "exploited") return kExploited;
  if (name == "blocked") return kBlocked;
  if (name == "probed") return kProbed;
  if (name == "suspicious") return kSuspicious;
  return -1;
}

std::string family_of(std::string_view rule) {
  return std::string(rule.substr(0, rule.find_first_of(".:")));
}

std::string detect_tool(std::string_view ua) {
  if (ua.empty()) return {};
  std::string lower(ua.substr(0, 512));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Longest, most specific names first.
  static constexpr std::pair<const char*, const char*> kTools[] = {
      {"sqlmap", "sqlmap"},       {"nikto", "Nikto"},         {"nuclei", "Nuclei"},
      {"wapiti", "Wapiti"},       {"burp", "Burp Suite"},     {"owasp zap", "OWASP ZAP"},
      {"zaproxy", "OWASP ZAP"},   {"acunetix", "Acunetix"},   {"nessus", "Nessus"},
      {"openvas", "OpenVAS"},     {"nmap", "Nmap"},           {"masscan", "masscan"},
      {"gobuster", "gobuster"},   {"dirbuster", "DirBuster"}, {"feroxbuster", "feroxbuster"},
      {"ffuf", "ffuf"},           {"wfuzz", "Wfuzz"},         {"hydra", "Hydra"},
      {"commix", "commix"},       {"xsstrike", "XSStrike"},   {"dalfox", "Dalfox"},
      {"arachni", "Arachni"},     {"skipfish", "skipfish"},   {"w3af", "w3af"},
      {"whatweb", "WhatWeb"},     {"jaeles", "Jaeles"},       {"netsparker", "Netsparker"},
      {"appscan", "AppScan"},     {"qualys", "Qualys"},       {"metasploit", "Metasploit"},
      {"python-requests", "python-requests"}, {"go-http-client", "Go http client"},
      {"curl/", "curl"},          {"wget/", "Wget"},
  };
  for (const auto& [needle, name] : kTools)
    if (lower.find(needle) != std::string::npos) return name;
  return {};
}

Status parse_event_batch(std::string_view body, const std::string& app, std::int64_t received_ms,
                         const BatchLimits& limits, std::vector<EventRecord>* events) {
  bool compact = false;
  if (Status st = scan_body(body, &compact); !st.ok()) return st;
  // Parsed in place in a copy (strings are decoded where they are, not copied again); the
  // encoding was validated above. The body itself stays as it came, for the events' bytes.
  std::string text(body);
  rapidjson::Document doc;
  rapidjson::InsituStringStream in(text.data());
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  rapidjson::ParseResult parsed;
  auto generate = [&](rapidjson::Document& d) {
    rapidjson::Reader reader;
    SpanHandler handler(&d, &in, &spans);
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseInsituFlag;
    parsed = reader.Parse<kFlags>(in, handler);
    return !parsed.IsError();
  };
  doc.Populate(generate);
  if (parsed.IsError())
    return Status::error(400, "bad_json",
                         std::string("invalid JSON at byte ") + std::to_string(parsed.Offset()) +
                             ": " + rapidjson::GetParseError_En(parsed.Code()));
  Value* array = &doc;
  if (doc.IsObject()) {  // {"events": [...]} is accepted as well as a bare array
    auto it = doc.FindMember("events");
    if (it == doc.MemberEnd() || !it->value.IsArray())
      return Status::error(400, "bad_request", "expected a JSON array of events");
    array = &it->value;
    spans.clear();  // they are the top-level array's
  }
  if (!array->IsArray()) return Status::error(400, "bad_request", "expected a JSON array of events");
  if (array->Size() > limits.max_events)
    return Status::error(413, "too_many_events",
                         "too many events in one batch (" + std::to_string(array->Size()) +
                             " > " + std::to_string(limits.max_events) + ")");
  events->clear();
  events->reserve(array->Size());
  auto& alloc = doc.GetAllocator();
  rapidjson::StringBuffer buf;
  // An event that names its application and time, in a body without whitespace between tokens,
  // is stored as the bytes it came in: re-serialising it cost a third of the parse.
  const bool own_bytes = compact && spans.size() == array->Size();
  for (rapidjson::SizeType i = 0; i < array->Size(); ++i) {
    Value& e = (*array)[i];
    Validator v(i);
    if (!e.IsObject()) {
      v.fail(nullptr, "", "");
      return Status::error(400, "bad_event",
                           "events[" + std::to_string(i) + "]: an event must be a JSON object",
                           "events[" + std::to_string(i) + "]");
    }
    EventRecord r;
    r.app = app;
    r.received_ms = received_ms;
    std::string outcome, time, event_app;
    if (!v.str(e, "event_id", 128, &r.event_id)) return v.status();
    if (!valid_event_id(r.event_id)) {
      v.fail(nullptr, "event_id", "required: 1-128 characters of A-Z a-z 0-9 . _ : -");
      return v.status();
    }
    if (!v.str(e, "outcome", 16, &outcome)) return v.status();
    r.outcome = outcome_rank(outcome);
    if (r.outcome < 0) {
      v.fail(nullptr, "outcome", "required: exploited, blocked, probed or suspicious");
      return v.status();
    }
    if (!v.str(e, "rule", 128, &r.rule)) return v.status();
    if (!valid_rule(r.rule)) {
      v.fail(nullptr, "rule", "required: 1-128 characters of A-Z a-z 0-9 . _ : / -");
      return v.status();
    }
    r.family = family_of(r.rule);
    if (!v.str(e, "severity", 16, &r.severity)) return v.status();
    if (!r.severity.empty() && r.severity != "critical" && r.severity != "high" &&
        r.severity != "medium" && r.severity != "low") {
      v.fail(nullptr, "severity", "must be critical, high, medium or low");
      return v.status();
    }
    if (!v.str(e, "time", 64, &time)) return v.status();
    if (time.empty()) {
      r.time_ms = received_ms;
      std::string t = format_rfc3339(received_ms);
      e.AddMember("time", Value(t.c_str(), static_cast<rapidjson::SizeType>(t.size()), alloc),
                  alloc);
    } else if (auto t = parse_rfc3339(time)) {
      r.time_ms = *t > received_ms + kFutureSlackMs ? received_ms : *t;
    } else {
      v.fail(nullptr, "time", "must be an RFC 3339 date-time (2026-11-26T03:12:45.123Z)");
      return v.status();
    }
    if (!v.str(e, "app", 64, &event_app)) return v.status();
    if (!event_app.empty() && event_app != app) {
      v.fail(nullptr, "app", "this agent key is for application " + app + ", not " + event_app);
      return v.status();
    }
    if (event_app.empty())
      e.AddMember("app", Value(app.c_str(), static_cast<rapidjson::SizeType>(app.size()), alloc),
                  alloc);
    const Value* req = nullptr;
    const Value* input = nullptr;
    const Value* sink = nullptr;
    if (!v.obj(e, "request", &req) || !v.obj(e, "input", &input) || !v.obj(e, "sink", &sink))
      return v.status();
    if (req) {
      if (!v.str(*req, "client_ip", 64, &r.client_ip, "request") ||
          !v.str(*req, "method", 32, &r.method, "request") ||
          !v.str(*req, "path", 8192, &r.path, "request") ||
          !v.str(*req, "user_agent", 8192, &r.user_agent, "request") ||
          !v.str(*req, "user", 256, &r.user, "request"))
        return v.status();
      if (!r.client_ip.empty() && !valid_ip(r.client_ip)) {
        v.fail("request", "client_ip", "must be an IPv4 or IPv6 address");
        return v.status();
      }
    }
    if (r.user.empty() && !v.str(e, "user", 256, &r.user)) return v.status();
    if (input && (!v.str(*input, "source", 32, &r.input_source, "input") ||
                  !v.str(*input, "name", 1024, &r.input_name, "input")))
      return v.status();
    if (sink && !v.str(*sink, "type", 32, &r.sink_type, "sink")) return v.status();
    r.tool = detect_tool(r.user_agent);
    r.attacker = !r.user.empty()        ? "user:" + r.user
                 : !r.client_ip.empty() ? "ip:" + r.client_ip
                                        : "unknown";
    if (own_bytes && !event_app.empty() && !time.empty()) {
      const auto [from, to] = spans[i];
      r.json.assign(body.data() + from, to - from);
    } else {
      buf.Clear();
      rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
      e.Accept(writer);
      r.json.assign(buf.GetString(), buf.GetSize());
    }
    if (r.json.size() > limits.max_event_bytes) {
      v.fail(nullptr, "", "");
      return Status::error(413, "event_too_large",
                           "events[" + std::to_string(i) + "]: larger than " +
                               std::to_string(limits.max_event_bytes) + " bytes",
                           "events[" + std::to_string(i) + "]");
    }
    events->push_back(std::move(r));
  }
  return {};
}

}  // namespace vigil::server::ingest
