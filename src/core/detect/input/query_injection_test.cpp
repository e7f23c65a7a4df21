#include <gtest/gtest.h>

#include <string>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool ldap(std::string_view value, Hit* out = nullptr) {
  Candidate c{};
  c.value = value;
  c.features = features_of(value);
  Hit hit;
  bool fired = detect_ldapi(c, &hit);
  if (out) *out = hit;
  return fired;
}

TEST(LdapInput, BreakOutsThatAddConditions) {
  Hit hit;
  EXPECT_TRUE(ldap("*)(uid=*))(|(uid=*", &hit));
  EXPECT_NE(hit.reason.find("adds new filter conditions"), std::string::npos);
  EXPECT_TRUE(ldap("admin)(&)"));
  EXPECT_TRUE(ldap("admin)(|(password=*))"));
  EXPECT_TRUE(ldap("x)(objectClass=*"));
  EXPECT_TRUE(ldap("admin*)((|userPassword=*)"));
  EXPECT_TRUE(ldap("*)(|(objectclass=*)"));
}

TEST(LdapInput, WildcardClosersAndBooleanFilters) {
  Hit hit;
  EXPECT_TRUE(ldap("*))%00", &hit));
  EXPECT_NE(hit.reason.find("wildcard"), std::string::npos);
  EXPECT_TRUE(ldap("(|(uid=*)(cn=admin))", &hit));
  EXPECT_NE(hit.reason.find("boolean filter"), std::string::npos);
  EXPECT_TRUE(ldap("*()|&'"));
}

TEST(LdapInput, ProseAndCodeStayData) {
  EXPECT_FALSE(ldap("(DICKEY DICKIE*)"));
  EXPECT_FALSE(ldap("last|perl -pe '$_ x=/(..:..)...(.*)/&&\"'$1'\"ge$1'"));
  EXPECT_FALSE(ldap("> The day (FSF > being the natural alternative), I'll \"abdicate\" *"));
  EXPECT_FALSE(ldap("see note 1) and (b) below"));
  EXPECT_FALSE(ldap("f(x) = y*2"));
  EXPECT_FALSE(ldap("smile :-) (really)"));
  EXPECT_FALSE(ldap("a\\29(b=1)"));  // an escaped parenthesis is a literal
}

}  // namespace
}  // namespace vigil::detect::input
