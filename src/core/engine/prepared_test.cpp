#include "core/engine/prepared.hpp"

#include <gtest/gtest.h>

#include <string>
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
