#include "clients/aws_xml.h"

#include <gtest/gtest.h>

namespace outpost::clients {
namespace {

TEST(AwsXml, FindsAnElementByItsExactNameWithOrWithoutAttributes) {
  const std::string xml =
      R"(<R xmlns="http://sns"><IdList>x</IdList><Id>a-1</Id><Id kind="2">b</Id></R>)";
  EXPECT_EQ(xmlElement(xml, "Id"), "a-1");  // not <IdList>
  EXPECT_EQ(xmlElement(xml, "IdList"), "x");
  EXPECT_EQ(xmlElement(xml, "R")->substr(0, 8), "<IdList>");
  EXPECT_EQ(xmlElements(xml, "Id"), (std::vector<std::string_view>{"a-1", "b"}));
  EXPECT_FALSE(xmlElement(xml, "Missing"));
  EXPECT_FALSE(xmlElement("<Id>not closed", "Id"));
  EXPECT_EQ(xmlElement("<Failed/><Id>1</Id>", "Failed"), "");
  EXPECT_TRUE(xmlElements("<Failed></Failed>", "member").empty());
}

TEST(AwsXml, TextDecodesEntitiesAndCharacterReferences) {
  EXPECT_EQ(xmlText("<M>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</M>", "M"),
            "a & b <c> \"d\" 'e'");
  EXPECT_EQ(xmlText("<M>&#65;&#x42;&#xe9;&#x1F600;</M>", "M"), "AB\xC3\xA9\xF0\x9F\x98\x80");
  // What is not a known reference stays as it is.
  EXPECT_EQ(xmlText("<M>&bogus; &#xZZ; & alone</M>", "M"), "&bogus; &#xZZ; & alone");
  EXPECT_EQ(xmlText("<Other>x</Other>", "M"), "");
}

}  // namespace
}  // namespace outpost::clients
