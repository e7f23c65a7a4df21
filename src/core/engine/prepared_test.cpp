#include "core/engine/prepared.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "vigil/engine.hpp"

namespace vigil {
namespace {

// One pass reads a form's features and its decoders' needs: what analyze_request's prefilters
// see must be exactly features_of(text), and the folded text exactly the lower-cased text.
TEST(PreparedInputs, EntriesCarryTheirFeaturesAndFolding) {
  const std::vector<std::string> values = {
      "lamp", "Desk Lamp", " padded ", "a%27b+c", "AT&amp;T", "x\\u0027y", "O'Brien",
      std::string("head\0tail", 9), "%2527", "MiXeD%41", "\t\r\n", "\xC3\xA9t\xC3\xA9"};
  std::vector<Input> inputs;
  for (const std::string& v : values) inputs.push_back(Input{Source::kQuery, "q", v});
  inputs.push_back(Input{Source::kQuery, "empty", ""});
  PreparedInputs prepared(inputs);
  const PreparedInputs::Impl* impl = prepared.impl();
  ASSERT_NE(impl, nullptr);
  std::vector<int> forms_of(inputs.size(), 0);
  for (const auto& e : impl->entries) {
    ASSERT_LT(e.input, inputs.size());
    ++forms_of[e.input];
    EXPECT_EQ(e.features, detect::input::features_of(e.text)) << e.text;
    EXPECT_EQ(e.folded, common::folded(e.text)) << e.text;
  }
  EXPECT_EQ(forms_of[0], 1);  // "lamp": nothing to decode, no edge space: the raw form alone
  EXPECT_GE(forms_of[2], 2);  // trimmed
  EXPECT_GE(forms_of[3], 2);  // URL-decoded
  EXPECT_GE(forms_of[4], 2);  // HTML-decoded
  EXPECT_GE(forms_of[5], 2);  // JSON-unescaped
  EXPECT_GE(forms_of[6], 2);  // quote-doubled
  EXPECT_GE(forms_of[7], 2);  // NUL-truncated
  EXPECT_EQ(forms_of.back(), 0);  // an empty value has no form

  // Reused (as the agent reuses it): the same entries again.
  const std::size_t count = impl->entries.size();
  prepared.reset(inputs);
  EXPECT_EQ(prepared.impl()->entries.size(), count);
}

// A name the client chose is searched in sinks when a byte of it is not a word's: as a whole,
// and its first and last key segments. Plain-word names, and names of sources the client does
// not choose (headers), are not.
TEST(PreparedInputs, NamesWithOtherThanWordBytesAreForms) {
  std::vector<Input> inputs = {
      {Source::kJson, "name = 'x' OR 1=1 --", "lamp"},
      {Source::kQuery, "sort[price, (SELECT 1)]", "desc"},
      {Source::kJson, "filter.a' OR 'b", ""},
      {Source::kBody, "password", "hunter2"},
      {Source::kQuery, "user_name", "bob"},
      {Source::kHeader, "X-Odd' OR '1", "1"},
  };
  PreparedInputs prepared(inputs);
  const PreparedInputs::Impl* impl = prepared.impl();
  ASSERT_NE(impl, nullptr);
  std::vector<std::vector<std::string>> names(inputs.size());
  for (const auto& e : impl->entries) {
    ASSERT_LT(e.input, inputs.size());
    if (e.form != Form::kName) continue;
    names[e.input].emplace_back(e.text);
    EXPECT_EQ(e.features, detect::input::features_of(e.text)) << e.text;
    EXPECT_EQ(e.folded, common::folded(e.text)) << e.text;
  }
  EXPECT_EQ(names[0], (std::vector<std::string>{"name = 'x' OR 1=1 --"}));
  EXPECT_EQ(names[1], (std::vector<std::string>{"sort[price, (SELECT 1)]", "price, (SELECT 1)"}));
  EXPECT_EQ(names[2], (std::vector<std::string>{"filter.a' OR 'b", "a' OR 'b"}));
  EXPECT_TRUE(names[3].empty());
  EXPECT_TRUE(names[4].empty());
  EXPECT_TRUE(names[5].empty());
  EXPECT_FALSE(impl->plain_words);
}

// A value that is a JSON document (a form field, cookie or parameter holding one) has its
// strings and keys as forms: a program that parses it puts those in its operations. Numbers,
// one-byte strings and a value that is not JSON after all add none.
TEST(PreparedInputs, StringsOfAJsonValueAreForms) {
  std::vector<Input> inputs = {
      {Source::kCookie, "prefs", R"({"sort":"price","Name":"x' OR 1=1 --","n":42,"t":["a","lamp;id"]})"},
      {Source::kQuery, "q", "{name}"},
      {Source::kBody, "data", "[\"b'||'ob\"]"},
  };
  PreparedInputs prepared(inputs);
  const PreparedInputs::Impl* impl = prepared.impl();
  ASSERT_NE(impl, nullptr);
  std::vector<std::vector<std::string>> fields(inputs.size());
  for (const auto& e : impl->entries) {
    if (e.form != Form::kJsonField) continue;
    fields[e.input].emplace_back(e.text);
    EXPECT_EQ(e.features, detect::input::features_of(e.text)) << e.text;
    EXPECT_EQ(e.folded, common::folded(e.text)) << e.text;
  }
  EXPECT_EQ(fields[0], (std::vector<std::string>{"sort", "price", "Name", "x' OR 1=1 --", "lamp;id"}));
  EXPECT_TRUE(fields[1].empty());
  EXPECT_EQ(fields[2], (std::vector<std::string>{"b'||'ob"}));

  Engine engine;
  const Sink sql = Sink::sql(Dialect::kSqlite, "SELECT id FROM users WHERE name = 'x' OR 1=1 --'");
  Verdict v = engine.check_sink(sql, prepared);
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].form, Form::kJsonField);
  EXPECT_EQ(form_name(Form::kJsonField), "json-field");
  // The field as data, quoted, changes nothing.
  EXPECT_FALSE(engine.check_sink(Sink::sql(Dialect::kSqlite,
                                           "SELECT id FROM t WHERE a = 'price' ORDER BY id"),
                                 prepared)
                   .attack());
}

// A value that is base64 of text has that text as a form, and the strings of a JSON document
// in it as forms too (a cookie holding base64 JSON).
TEST(PreparedInputs, Base64TextIsAForm) {
  const std::vector<Input> inputs = {{Source::kCookie, "d", "eyJob3N0IjoibGFtcDtpZCJ9"},
                                     {Source::kCookie, "session", "3f9a1c27d0b84e6f"}};
  PreparedInputs prepared(inputs);
  std::vector<std::pair<Form, std::string>> forms;
  for (const auto& e : prepared.impl()->entries)
    if (e.form != Form::kRaw) forms.emplace_back(e.form, std::string(e.text));
  EXPECT_EQ(forms, (std::vector<std::pair<Form, std::string>>{
                       {Form::kBase64Decoded, R"({"host":"lamp;id"})"},
                       {Form::kJsonField, "host"},
                       {Form::kJsonField, "lamp;id"}}));
  Engine engine;
  const Verdict v = engine.check_sink(Sink::of(SinkType::kShell, "ping -c1 lamp;id"), prepared);
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].form, Form::kJsonField);
  EXPECT_EQ(form_name(Form::kBase64Decoded), "base64-decoded");
}

// A key the application builds an operation from is an input like a value: the injection is
// found, and the detection says it was the name.
TEST(PreparedInputs, InjectionThroughANameIsFound) {
  Engine engine;
  const std::vector<Input> sql_inputs = {{Source::kJson, "name = 'x' OR 1=1 --", "lamp"}};
  const Sink sql =
      Sink::sql(Dialect::kSqlite, "UPDATE users SET name = 'x' OR 1=1 -- = 'lamp' WHERE id = 3");
  Verdict v = engine.check_sink(sql, sql_inputs);
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].rule, "sql-injection");
  EXPECT_EQ(v.detections[0].form, Form::kName);
  EXPECT_EQ(form_name(Form::kName), "name");

  // The same key, quoted as an identifier, changes nothing.
  const std::vector<Input> quoted = {{Source::kJson, "first-name", "bob"}};
  const Sink ident = Sink::sql(Dialect::kSqlite, "UPDATE t SET \"first-name\" = 'bob'");
  EXPECT_FALSE(engine.check_sink(ident, quoted).attack());

  const std::vector<Input> html_inputs = {{Source::kBody, "<img src=x onerror=alert(1)>", ""}};
  const Sink page =
      Sink::of(SinkType::kHtml, "<p>Field <b><img src=x onerror=alert(1)></b> is required</p>");
  EXPECT_TRUE(engine.check_sink(page, html_inputs).attack());
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// Whether text appended to a page since a check holds an input: the occurrences that end after
// the check's end, including one that straddles it, in the forms and case the HTML check
// searches.
TEST(InputOccursAfter, FindsOnlyOccurrencesEndingInTheNewText) {
  std::vector<Input> inputs = {{Source::kQuery, "q", "<b>Lamp</b>"}, {Source::kQuery, "n", "Ada"}};
  PreparedInputs prepared(inputs);
  Engine engine;
  const std::string page = "<p>Hello, Ada!</p>\n<p>Results for <b>Lamp</b></p>\n";
  const Sink sink = Sink::of(SinkType::kHtml, page);
  const std::size_t results = page.find("Results");
  // "Ada" ends before `results`; "<b>Lamp</b>" ends after it.
  EXPECT_TRUE(engine.input_occurs_after(sink, results, prepared));
  EXPECT_FALSE(engine.input_occurs_after(sink, page.find("</p>\n", results), prepared));
  EXPECT_FALSE(engine.input_occurs_after(sink, page.size(), prepared));
  // Straddling: the check ended inside "<b>Lamp</b>".
  EXPECT_TRUE(engine.input_occurs_after(sink, page.find("Lamp") + 1, prepared));
  // The HTML check matches in any case; so does this.
  const std::string upper = "<p>Hello</p>\n<B>LAMP</B>";
  EXPECT_TRUE(engine.input_occurs_after(Sink::of(SinkType::kHtml, upper), 5, prepared));
  // Nothing prepared, nothing found.
  PreparedInputs none;
  EXPECT_FALSE(engine.input_occurs_after(sink, 0, none));
}

}  // namespace
}  // namespace vigil
