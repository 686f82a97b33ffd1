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

// Found by the sns_answer fuzz target: the text went, not valid UTF-8, into an event's
// lastError, and GET /v1/outbox, which writes it as JSON, answered 500.
TEST(AwsXml, TextIsAlwaysValidUtf8) {
  EXPECT_EQ(xmlText("<M>r\xe9sum\xe9 \xff</M>", "M"), "r\xef\xbf\xbdsum\xef\xbf\xbd \xef\xbf\xbd");
  // A surrogate is no character: its reference stays as it is.
  EXPECT_EQ(xmlText("<M>&#xD800;&#56320;&#x10000;</M>", "M"), "&#xD800;&#56320;\xf0\x90\x80\x80");
}

}  // namespace
}  // namespace outpost::clients
