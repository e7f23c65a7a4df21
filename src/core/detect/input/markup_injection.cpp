// Injections of server-side markup: XML declarations and entities (XXE), server-side includes
// and Edge Side Includes (SSI/ESI), and template expressions (SSTI).
#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

// Case-insensitive find.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (common::to_lower(hay[i]) == common::to_lower(needle[0]) &&
        common::iequals(hay.substr(i, needle.size()), needle))
      return i;
  }
  return std::string_view::npos;
}

bool is_name_start(char c) { return common::is_alpha(c) || c == '_'; }
bool is_name_char(char c) { return common::is_alnum(c) || c == '_' || c == '-' || c == '.'; }

// "%name;": an XML parameter-entity reference.
bool has_parameter_entity_ref(std::string_view v) {
  for (std::size_t i = v.find('%'); i != std::string_view::npos; i = v.find('%', i + 1)) {
    std::size_t j = i + 1;
    if (j >= v.size() || !is_name_start(v[j])) continue;
    while (j < v.size() && is_name_char(v[j])) ++j;
    if (j < v.size() && v[j] == ';' && j - i > 2) return true;
  }
  return false;
}

bool set_hit(Hit* hit, std::string reason, std::string_view v, std::size_t at) {
  hit->reason = std::move(reason);
  hit->evidence = evidence(v.substr(at == std::string_view::npos ? 0 : at));
  return true;
}

}  // namespace

bool detect_xxe(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  // Each marker needs one byte the value's features say whether it has: a value without it
  // skips that scan (most values reach this detector for an '&' or a '%').
  const std::uint32_t f = c.features;
  // UTF-7 spells '<!' as "+ADwAIQ-": decode the two markers attackers use.
  if (f & kPlus)
    if (std::size_t at = ifind(v, "+ADwAIQ-"); at != std::string_view::npos)
      return set_hit(hit, "UTF-7 encoded XML markup (<!DOCTYPE / <!ENTITY) that slips past filters", v, at);
  if (f & kLt) {
    if (std::size_t at = ifind(v, "<!ENTITY"); at != std::string_view::npos)
      return set_hit(hit, "an XML entity declaration: external entities read files and reach "
                          "internal hosts (XXE)", v, at);
    if (std::size_t at = ifind(v, "<!DOCTYPE"); at != std::string_view::npos)
      return set_hit(hit, "an XML document type declaration, the carrier of external entities", v, at);
    if (std::size_t at = ifind(v, "<?xml"); at != std::string_view::npos)
      return set_hit(hit, "an XML declaration injected into a value (XML injection)", v, at);
    if (std::size_t at = ifind(v, "<![CDATA["); at != std::string_view::npos)
      return set_hit(hit, "an XML CDATA section injected into a value", v, at);
  }
  if (f & kColon)
    if (std::size_t at = ifind(v, "xi:include"); at != std::string_view::npos)
      return set_hit(hit, "an XInclude element, which makes the parser fetch another document", v, at);
  if (!(f & kPercent)) return false;
  if (ifind(v, "SYSTEM") != std::string_view::npos && has_parameter_entity_ref(v))
    return set_hit(hit, "an XML parameter-entity reference with an external SYSTEM identifier", v, 0);
  if (!v.empty() && v.front() == '%' && has_parameter_entity_ref(v) && v.size() < 40)
    return set_hit(hit, "an XML parameter-entity reference", v, 0);
  return false;
}

bool detect_ssi(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  static constexpr std::string_view kDirectives[] = {"exec", "include", "echo",  "config",
                                                     "set",  "printenv", "fsize", "flastmod",
                                                     "if",   "elif",     "else",  "endif"};
  for (std::size_t at = v.find("<!--#"); at != std::string_view::npos; at = v.find("<!--#", at + 1)) {
    std::string_view rest = v.substr(at + 5);
    for (std::string_view d : kDirectives) {
      if (common::istarts_with(rest, d))
        return set_hit(hit, "a server-side include directive <!--#" + std::string(d) +
                                "-->, which the web server executes", v, at);
    }
  }
  if (std::size_t at = ifind(v, "<esi:"); at != std::string_view::npos)
    return set_hit(hit, "an Edge Side Include tag, which a caching proxy executes", v, at);
  return false;
}

bool detect_ssti(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  // A delimiter pair with an expression inside. Plain "{{}}" or "${name}" are common in
  // benign text and code; what makes an expression is an operator, a call, an attribute or an
  // index.
  auto expression_inside = [&](std::size_t open, std::size_t open_len, std::string_view close,
                               bool any_content) -> bool {
    std::size_t end = v.find(close, open + open_len);
    if (end == std::string_view::npos) end = v.size();
    std::string_view body = common::trim(v.substr(open + open_len, end - open - open_len));
    if (body.empty() || body.size() > 2000) return false;
    if (any_content && common::find_any(body, "\n") == std::string_view::npos) return true;
    return common::find_any(body, "*+-/%()[].|~'\"") != std::string_view::npos;
  };
  static constexpr struct {
    std::string_view open, close;
    bool any_content;
    std::string_view engine;
  } kDelimiters[] = {
      {"{{", "}}", true, "Jinja2/Twig/Handlebars expression {{...}}"},
      {"{%", "%}", true, "Jinja2/Twig statement {%...%}"},
      {"<%=", "%>", true, "ERB/JSP expression <%=...%>"},
      {"<%", "%>", false, "ERB/JSP scriptlet <%...%>"},
      {"${", "}", false, "expression-language ${...}"},
      {"#{", "}", false, "expression-language #{...}"},
      {"*{", "}", false, "Thymeleaf selection *{...}"},
      {"@(", ")", false, "Razor expression @(...)"},
      {"<#assign", ">", true, "FreeMarker directive <#assign>"},
      {"#set(", ")", true, "Velocity directive #set(...)"},
  };
  for (const auto& d : kDelimiters) {
    for (std::size_t at = v.find(d.open); at != std::string_view::npos; at = v.find(d.open, at + 1)) {
      if (expression_inside(at, d.open.size(), d.close, d.any_content))
        return set_hit(hit, "a server-side template " + std::string(d.engine) +
                                ", evaluated if the value reaches a template", v, at);
      break;  // one look per delimiter keeps the work linear
    }
  }
  return false;
}

}  // namespace vigil::detect::input
