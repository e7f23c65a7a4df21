// XML bodies: text and attribute values become inputs named by their element path
// ("order/item/@sku"); a DOCTYPE is evidence of XXE and is kept whole as an input. A lenient
// hand-written scanner: nothing is fetched, nesting is bounded, and the only entities expanded
// are those the DOCTYPE declares with a literal value (as Python's ElementTree and Java's
// parsers expand them), within bounds.
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

// Bounds on expanding declared entities (a "billion laughs" document stops at them).
constexpr std::size_t kMaxEntities = 64;
constexpr int kMaxEntityDepth = 8;
constexpr std::size_t kMaxExpansions = 10000;       // entity references expanded per body
constexpr std::size_t kMaxExpandedValue = 64 * 1024;  // bytes of one expanded value
constexpr std::size_t kMaxExpandedTotal = 1 << 20;    // bytes entities add, per body

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
    end_run();
    if (!stack_.empty() && !malformed_) report("an element is not closed");
  }

 private:
  void report(const char* what) {
    malformed_ = true;
    if (sniffed_) return;
    b_->flag(kAnomalyBodyMismatch);
    b_->diagnose("malformed.xml", std::string("the XML body is malformed: ") + what);
  }

  // `value` as the program reads it: character and predefined references, and entities the
  // DOCTYPE declared (expanded only when there are some: otherwise as before, one decoding).
  Ref decoded_value(std::string_view value) {
    std::string decoded;
    if (!entities_.empty() && value.find('&') != std::string_view::npos) [[unlikely]] {
      expand(value, 0, &decoded);
      return decoded == value ? Ref::of(value) : b_->copy(decoded);
    }
    return decode::html_entity_decode(value, &decoded) ? b_->copy(decoded) : Ref::of(value);
  }

  void expand(std::string_view in, int depth, std::string* out) {
    for (std::size_t i = 0; i < in.size() && out->size() <= kMaxExpandedValue; ++i) {
      const std::size_t semi = in[i] == '&' ? in.find(';', i + 1) : std::string_view::npos;
      if (semi == std::string_view::npos || semi - i > 64) {
        out->push_back(in[i]);
        continue;
      }
      const std::string_view ref = in.substr(i, semi + 1 - i), name = ref.substr(1, ref.size() - 2);
      const std::string_view* value = name.empty() || name[0] == '#' ? nullptr : declared(name);
      if (value != nullptr && depth < kMaxEntityDepth && expansions_ < kMaxExpansions &&
          expanded_bytes_ < kMaxExpandedTotal) {
        ++expansions_;
        const std::size_t before = out->size();
        expand(*value, depth + 1, out);
        if (depth == 0) expanded_bytes_ += out->size() - before;
      } else {
        std::string one;  // a character or predefined reference, or one kept as written
        out->append(decode::html_entity_decode(ref, &one) ? std::string_view(one) : ref);
      }
      i = semi;
    }
    if (out->size() > kMaxExpandedValue || expansions_ >= kMaxExpansions ||
        expanded_bytes_ >= kMaxExpandedTotal) [[unlikely]] {
      if (!expansion_cut_) {
        expansion_cut_ = true;
        b_->flag(kAnomalyLimitHit);
        b_->diagnose("limit.xml_entities", "expanding the XML body's declared entities was cut");
      }
    }
  }

  const std::string_view* declared(std::string_view name) const {
    for (const auto& [n, v] : entities_)
      if (n == name) return &v;
    return nullptr;
  }

  void add_value(std::string_view value, std::string_view attribute) {
    add_value(value, attribute, decoded_value(common::trim(value)));
  }

  void add_value(std::string_view value, std::string_view attribute, Ref v) {
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
    b_->add(Source::kBody, b_->copy(path_), v);
  }

  // Character data. Python's ElementTree drops comments and processing instructions and joins
  // the text around them and CDATA sections into one (an element's .text, a child's .tail):
  // `b<![CDATA[']]>||'ob` is b'||'ob to it. Each piece is an input (as lxml and DOM readers
  // keep them apart), and a run of several pieces is one more.
  void text(std::string_view t) {
    if (common::trim(t).empty()) {  // white space: part of a run between its pieces
      if (run_pieces_ > 0 && run_.size() <= kMaxExpandedValue) run_.append(t);
      return;
    }
    const Ref v = decoded_value(common::trim(t));
    add_value(t, {}, v);
    append_run(t, &v);
  }
  void cdata(std::string_view t) {
    add_value(t, {});
    append_run(t, nullptr);  // literal in the joined text, as parsers read it
  }
  void append_run(std::string_view raw, const Ref* decoded) {
    if (run_.size() > kMaxExpandedValue) return;
    if (decoded == nullptr) {
      run_.append(raw);
    } else {
      // The piece untrimmed, decoded: the spaces around it are part of the joined text.
      const std::size_t lead = raw.find_first_not_of(" \t\r\n");
      run_.append(raw.substr(0, lead));
      run_.append(b_->view(*decoded));
      const std::size_t last = raw.find_last_not_of(" \t\r\n");
      run_.append(raw.substr(last + 1));
    }
    ++run_pieces_;
  }
  // At markup that ends character data (a tag): the joined run, when it had several pieces.
  void end_run() {
    if (run_pieces_ >= 2) add_value(run_, {}, b_->copy(common::trim(run_)));
    run_.clear();
    run_pieces_ = 0;
  }

  std::size_t markup(std::size_t lt) {
    std::string_view rest = s_.substr(lt);
    if (rest.substr(0, 4) == "<!--") {
      std::size_t end = s_.find("-->", lt + 4);
      return end == std::string_view::npos ? s_.size() : end + 3;
    }
    if (rest.substr(0, 9) == "<![CDATA[") {
      std::size_t end = s_.find("]]>", lt + 9);
      std::size_t stop = end == std::string_view::npos ? s_.size() : end;
      cdata(s_.substr(lt + 9, stop - lt - 9));
      return end == std::string_view::npos ? s_.size() : end + 3;
    }
    if (rest.size() >= 9 && common::iequals(rest.substr(0, 9), "<!DOCTYPE")) return doctype(lt);
    if (rest.substr(0, 2) == "<?") {
      std::size_t end = s_.find("?>", lt + 2);
      return end == std::string_view::npos ? s_.size() : end + 2;
    }
    end_run();
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
    declare_entities(s_.substr(lt, end - lt));
    b_->flag(kAnomalyXmlDoctype);
    b_->diagnose("xml.doctype", "the XML body declares a DOCTYPE (external entities are the XXE vector)");
    b_->add(Source::kBody, std::string_view("!DOCTYPE"), s_.substr(lt, end - lt));
    return end;
  }

  // <!ENTITY name "value"> (or 'value') in the internal subset: a general entity with a literal
  // value. Parameter entities (%) and external ones (SYSTEM, PUBLIC) are not expanded, as
  // ElementTree leaves external ones; the first declaration of a name binds it, as in XML.
  void declare_entities(std::string_view dtd) {
    constexpr std::string_view kEntity = "<!ENTITY";
    for (std::size_t at = dtd.find(kEntity); at != std::string_view::npos;
         at = dtd.find(kEntity, at)) {
      std::size_t i = at + kEntity.size();
      at = i;
      while (i < dtd.size() && common::is_space(dtd[i])) ++i;
      const std::size_t name_begin = i;
      while (i < dtd.size() && is_name_char(dtd[i])) ++i;
      const std::string_view name = dtd.substr(name_begin, i - name_begin);
      while (i < dtd.size() && common::is_space(dtd[i])) ++i;
      if (name.empty() || i >= dtd.size() || (dtd[i] != '"' && dtd[i] != '\'')) continue;
      const std::size_t close = dtd.find(dtd[i], i + 1);
      if (close == std::string_view::npos) break;
      if (declared(name) == nullptr && entities_.size() < kMaxEntities)
        entities_.emplace_back(name, dtd.substr(i + 1, close - i - 1));
      at = close + 1;
    }
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
  std::vector<std::pair<std::string_view, std::string_view>> entities_;  // declared, literal
  std::size_t expansions_ = 0;
  std::size_t expanded_bytes_ = 0;
  bool expansion_cut_ = false;
  std::string run_;  // character data since the last tag, pieces joined
  int run_pieces_ = 0;
};

}  // namespace

void parse_xml_body(std::string_view body, InputBuilder* b, bool sniffed) {
  body = after_bom(body);
  XmlScanner(body, b, sniffed).run();
}

}  // namespace vigil::context
