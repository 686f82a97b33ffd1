#include "common/text.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace outpost {
namespace {

TEST(FormatTimestamp, WritesRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTimestamp(1'764'109'634'123), "2025-11-25T22:27:14.123Z");
  EXPECT_EQ(formatTimestamp(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Sha256Hex, MatchesTheKnownDigest) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(NewUuid, IsVersion4AndDistinct) {
  SystemRandom random(42);
  const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newUuid(random);
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8Length(""), 0u);
  EXPECT_EQ(utf8Length("abc"), 3u);
  EXPECT_EQ(utf8Length("caf\xC3\xA9"), 4u);
  EXPECT_EQ(utf8Length("\xF0\x9F\x9B\x92"), 1u);  // one emoji, four bytes
}

TEST(IsValidUtf8, TakesWellFormedTextAndRefusesTheRest) {
  for (const char* good :
       {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(isValidUtf8(good)) << good;
  }
  for (const char* bad : {"\x80", "\xbf\xbf", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "a\xc3(b"}) {
    EXPECT_FALSE(isValidUtf8(bad)) << bad;
  }
}

TEST(ToValidUtf8, ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(toValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(toValidUtf8("a\xff-b"), "a\xef\xbf\xbd-b");
  EXPECT_EQ(toValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_EQ(toValidUtf8("\xc3"), "\xef\xbf\xbd");                                  // cut short
  for (const char* bad : {"\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "a\xc3(b"}) {
    EXPECT_TRUE(isValidUtf8(toValidUtf8(bad))) << bad;
  }
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("secret-token", "secret-token"));
  EXPECT_FALSE(constantTimeEquals("secret-token", "secret-tokem"));
  EXPECT_FALSE(constantTimeEquals("secret-token", "secret-token-longer"));
  EXPECT_FALSE(constantTimeEquals("", "secret"));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

}  // namespace
}  // namespace outpost
