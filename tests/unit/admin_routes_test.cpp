// POST /v1/admin/drain's body (SPEC §10): empty, or {"timeoutMs"} from 0 to the cap.
#include "http/admin_routes.h"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

using std::chrono::milliseconds;

Result<milliseconds> timeoutOf(const std::string& body) {
  httplib::Request request;
  request.body = body;
  if (!body.empty()) request.set_header("Content-Type", "application/json");
  return readDrainTimeout(request);
}

void expectRejected(const std::string& body, const std::string& field) {
  auto timeout = timeoutOf(body);
  ASSERT_FALSE(timeout) << body;
  EXPECT_EQ(timeout.error().kind, ErrorKind::kInvalidArgument) << body;
  if (field.empty()) return;
  ASSERT_EQ(timeout.error().fields.size(), 1u) << body;
  EXPECT_EQ(timeout.error().fields[0].field, field) << body;
}

TEST(DrainRequest, AnEmptyBodyOrNoTimeoutTakesTheDefault) {
  EXPECT_EQ(*timeoutOf(""), kDefaultDrainTimeout);
  EXPECT_EQ(*timeoutOf("{}"), kDefaultDrainTimeout);
}

TEST(DrainRequest, TakesEveryTimeoutFromZeroToTheCap) {
  EXPECT_EQ(*timeoutOf(R"({"timeoutMs": 0})"), milliseconds(0));
  EXPECT_EQ(*timeoutOf(R"({"timeoutMs": 500})"), milliseconds(500));
  EXPECT_EQ(*timeoutOf(R"({"timeoutMs": 600000})"), kMaxDrainTimeout);
}

TEST(DrainRequest, RefusesATimeoutThatIsNotANonNegativeIntegerUpToTheCap) {
  expectRejected(R"({"timeoutMs": 600001})", "timeoutMs");
  expectRejected(R"({"timeoutMs": -1})", "timeoutMs");
  expectRejected(R"({"timeoutMs": 1.5})", "timeoutMs");
  expectRejected(R"({"timeoutMs": "500"})", "timeoutMs");
  expectRejected(R"({"timeoutMs": null})", "timeoutMs");
  expectRejected(R"({"timeoutMs": 1e30})", "timeoutMs");
  expectRejected(R"({"timeoutMs": 18446744073709551615})", "timeoutMs");
}

TEST(DrainRequest, RefusesUnknownFieldsAndBodiesThatAreNotAnObject) {
  expectRejected(R"({"timeout": 500})", "timeout");
  expectRejected(R"([500])", "");
  expectRejected(R"(500)", "");
  expectRejected(R"({"timeoutMs": 500)", "");
}

}  // namespace
}  // namespace outpost::http
