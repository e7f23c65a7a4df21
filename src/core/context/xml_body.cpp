// XML bodies: text and attribute values become inputs named by their element path
// ("order/item/@sku"); a DOCTYPE is evidence of XXE and is kept whole as an input. A lenient
// hand-written scanner: no entity is ever expanded, nothing is fetched, nesting is bounded.
#include <string>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/context/input_builder.hpp"
#include "core/decode/decode.hpp"

namespace vigil::context {
namespace {

bool is_name_char(char c) {
  return common::is_alnum(c) || c == '_' || c == '-' || c == '.' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}

class XmlScanner {
 public:
  XmlScanner(std::string_view body, InputBuilder* b, bool sniffed)
      : s_(body), b_(b), sniffed_(sniffed) {}

  void run() {
    std::size_t i = 0;
    while (i < s_.size()) {
      std::size_t lt = s_.find('<', i);
      text(s_.substr(i, lt == std::string_view::npos ? lt : lt - i));
      if (lt == std::string_view::npos) break;
      i = markup(lt);
    }
    if (!stack_.empty() && !malformed_) report("an element is not closed");
  }

 private:
  void report(const char* what) {
    malformed_ = true;
    if (sniffed_) return;
    b_->flag(kAnomalyBodyMismatch);
    b_->diagnose("malformed.xml", std::string("the XML body is malformed: ") + what);
  }

  void add_value(std::string_view value, std::string_view attribute) {
    value = common::trim(value);
    if (value.empty()) return;  // at any depth: the path is cut, the value is an input
    path_.clear();
    for (std::size_t k = 0; k < stack_.size(); ++k) {
      if (k) path_ += '/';
      path_.append(stack_[k]);
      if (path_.size() > b_->limits().max_key_path_bytes) break;
    }
    if (!attribute.empty()) path_.append("/@").append(attribute);
    if (path_.size() > b_->limits().max_key_path_bytes) {
      path_.resize(b_->limits().max_key_path_bytes);
      b_->flag(kAnomalyLimitHit);
      b_->diagnose("limit.key_path", "an XML element path was cut");
    }
    std::string decoded;
    Ref v = decode::html_entity_decode(value, &decoded) ? b_->copy(decoded) : Ref::of(value);
    b_->add(Source::kBody, b_->copy(path_), v);
  }

  void text(std::string_view t) { add_value(t, {}); }

  std::size_t markup(std::size_t lt) {
    std::string_view rest = s_.substr(lt);
    if (rest.substr(0, 4) == "<!--") {
      std::size_t end = s_.find("-->", lt + 4);
      return end == std::string_view::npos ? s_.size() : end + 3;
    }
    if (rest.substr(0, 9) == "<![CDATA[") {
      std::size_t end = s_.find("]]>", lt + 9);
      std::size_t stop = end == std::string_view::npos ? s_.size() : end;
      add_value(s_.substr(lt + 9, stop - lt - 9), {});
      return end == std::string_view::npos ? s_.size() : end + 3;
    }
    if (rest.size() >= 9 && common::iequals(rest.substr(0, 9), "<!DOCTYPE")) return doctype(lt);
    if (rest.substr(0, 2) == "<?") {
      std::size_t end = s_.find("?>", lt + 2);
      return end == std::string_view::npos ? s_.size() : end + 2;
    }
    if (rest.substr(0, 2) == "</") {
      std::size_t end = s_.find('>', lt);
      if (!stack_.empty()) stack_.pop_back();
      else report("an end tag has no start tag");
      return end == std::string_view::npos ? s_.size() : end + 1;
    }
    return element(lt);
  }

  // DOCTYPE with an optional internal subset in [...]; quoted strings may contain '>' and ']'.
  std::size_t doctype(std::size_t lt) {
    std::size_t i = lt + 9;
    int brackets = 0;
    char quote = 0;
    for (; i < s_.size(); ++i) {
      char c = s_[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '[') {
        ++brackets;
      } else if (c == ']') {
        if (brackets > 0) --brackets;
      } else if (c == '>' && brackets == 0) {
        break;
      }
    }
    std::size_t end = i < s_.size() ? i + 1 : s_.size();
    b_->flag(kAnomalyXmlDoctype);
    b_->diagnose("xml.doctype", "the XML body declares a DOCTYPE (external entities are the XXE vector)");
    b_->add(Source::kBody, std::string_view("!DOCTYPE"), s_.substr(lt, end - lt));
    return end;
  }

  std::size_t element(std::size_t lt) {
    std::size_t i = lt + 1;
    std::size_t name_begin = i;
    while (i < s_.size() && is_name_char(s_[i])) ++i;
    std::string_view name = s_.substr(name_begin, i - name_begin);
    if (name.empty()) {
      // A stray '<' in text (malformed): keep it as text and move on.
      report("a '<' does not start markup");
      return lt + 1;
    }
    stack_.push_back(name);
    while (i < s_.size()) {
      while (i < s_.size() && common::is_space(s_[i])) ++i;
      if (i >= s_.size()) break;
      if (s_[i] == '>') return i + 1;
      if (s_[i] == '/' && i + 1 < s_.size() && s_[i + 1] == '>') {
        stack_.pop_back();
        return i + 2;
      }
      std::size_t an = i;
      while (i < s_.size() && is_name_char(s_[i])) ++i;
      std::string_view attr = s_.substr(an, i - an);
      if (attr.empty()) {
        ++i;  // junk inside a tag
        continue;
      }
      while (i < s_.size() && common::is_space(s_[i])) ++i;
      if (i < s_.size() && s_[i] == '=') {
        ++i;
        while (i < s_.size() && common::is_space(s_[i])) ++i;
        if (i < s_.size() && (s_[i] == '"' || s_[i] == '\'')) {
          char q = s_[i++];
          std::size_t close = s_.find(q, i);
          std::size_t stop = close == std::string_view::npos ? s_.size() : close;
          add_value(s_.substr(i, stop - i), attr);
          i = close == std::string_view::npos ? s_.size() : close + 1;
        } else {
          std::size_t vb = i;
          while (i < s_.size() && !common::is_space(s_[i]) && s_[i] != '>') ++i;
          add_value(s_.substr(vb, i - vb), attr);
        }
      }
    }
    report("a tag is not closed");
    return s_.size();
  }

  std::string_view s_;
  InputBuilder* b_;
  bool sniffed_;
  std::vector<std::string_view> stack_;
  std::string path_;
  bool malformed_ = false;
};

}  // namespace

void parse_xml_body(std::string_view body, InputBuilder* b, bool sniffed) {
  body = after_bom(body);
  XmlScanner(body, b, sniffed).run();
}

}  // namespace vigil::context
