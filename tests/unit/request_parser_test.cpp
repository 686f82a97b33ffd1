#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "support/raw_http.h"

namespace outpost::http {
namespace {

using State = RequestParser::State;
using testing::chunkedBody;
using namespace std::string_literals;

// Feeds all of `bytes` in pieces of `step` bytes, the way a slow network delivers them;
// an answer of 100 Continue is the caller's business, so the pause after the headers is
// passed over.
RequestParser parseInSteps(const std::string& bytes, std::size_t step = 1 << 20,
                           RequestLimits limits = {}) {
  RequestParser parser(limits);
  std::size_t offset = 0;
  while (offset < bytes.size() &&
         (parser.state() == State::kIncomplete || parser.state() == State::kHeadersComplete)) {
    const auto piece = std::string_view(bytes).substr(offset, step);
    offset += parser.feed(piece);
  }
  if (parser.state() == State::kHeadersComplete) parser.feed("");
  return parser;
}

std::string post(const std::string& headers, const std::string& body) {
  return "POST /v1/orders HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + body;
}

void expectRefused(const std::string& bytes, int status, const std::string& detail_part = "") {
  const auto parser = parseInSteps(bytes);
  ASSERT_EQ(parser.state(), State::kFailed) << bytes.substr(0, 200);
  EXPECT_EQ(parser.error().status, status) << parser.error().detail;
  EXPECT_NE(parser.error().detail.find(detail_part), std::string::npos) << parser.error().detail;
}

TEST(RequestParser, ReadsARequestLineHeadersAndALengthBody) {
  const auto parser = parseInSteps(post("Content-Length: 4\r\nX-Note:  two  words \r\n", "abcd"));
  ASSERT_EQ(parser.state(), State::kComplete);
  const auto& request = parser.request();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v1/orders");
  EXPECT_EQ(request.version, "HTTP/1.1");
  EXPECT_EQ(request.body, "abcd");
  EXPECT_TRUE(request.keep_alive);
  ASSERT_NE(request.header("x-note"), nullptr);
  EXPECT_EQ(*request.header("X-NOTE"), "two  words");
}

TEST(RequestParser, GivesTheSameRequestWhateverTheNetworkSplits) {
  const std::string bytes = post("Transfer-Encoding: chunked\r\n", chunkedBody("hello, world", 5));
  for (std::size_t step : {1, 2, 3, 7, 64}) {
    const auto parser = parseInSteps(bytes, step);
    ASSERT_EQ(parser.state(), State::kComplete) << step;
    EXPECT_EQ(parser.request().body, "hello, world") << step;
  }
}

TEST(RequestParser, StopsAtTheEndOfARequestSoPipelinedOnesFollowInOrder) {
  const std::string one = "GET /livez HTTP/1.1\r\n\r\n";
  const std::string two = "GET /readyz HTTP/1.1\r\n\r\n";
  const std::string both = one + two;
  RequestParser first;
  const auto used = first.feed(both);
  ASSERT_EQ(first.state(), State::kComplete);
  EXPECT_EQ(used, one.size());
  RequestParser second;
  EXPECT_EQ(second.feed(std::string_view(both).substr(used)), two.size());
  ASSERT_EQ(second.state(), State::kComplete);
  EXPECT_EQ(second.request().target, "/readyz");
}

TEST(RequestParser, SkipsEmptyLinesBeforeTheRequestLine) {
  const auto parser = parseInSteps("\r\n\r\nGET /livez HTTP/1.1\r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().target, "/livez");
}

TEST(RequestParser, AcceptsBareLineFeeds) {
  const auto parser = parseInSteps("GET /livez HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(*parser.request().header("Host"), "x");
}

TEST(RequestParser, APostWithNeitherLengthNorChunkedHasAnEmptyBody) {
  const auto parser = parseInSteps("POST /v1/orders HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().body, "");
}

TEST(RequestParser, KeepAliveFollowsTheVersionAndConnectionHeader) {
  EXPECT_FALSE(parseInSteps("GET / HTTP/1.0\r\n\r\n").request().keep_alive);
  EXPECT_TRUE(
      parseInSteps("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request().keep_alive);
  EXPECT_FALSE(parseInSteps("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").request().keep_alive);
  EXPECT_FALSE(
      parseInSteps("GET / HTTP/1.1\r\nConnection: te, close\r\n\r\n").request().keep_alive);
}

TEST(RequestParser, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  const auto parser = parseInSteps(post("Transfer-Encoding: chunked\r\n",
                                        "3;note=x\r\nabc\r\n2 \r\nde\r\n0\r\nTrailer: t\r\n\r\n"));
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().body, "abcde");
}

TEST(RequestParser, TheBodyLimitHoldsOnTheDecodedChunkedBody) {
  const std::string body(100 * 1024, 'x');
  expectRefused(post("Transfer-Encoding: chunked\r\n", chunkedBody(body, 4000)), 413, "64 KiB");
  // One chunk that announces more than the limit is refused before its data arrives.
  RequestParser parser;
  parser.feed(post("Transfer-Encoding: chunked\r\n", "10001\r\n"));
  EXPECT_EQ(parser.state(), State::kFailed);
  EXPECT_EQ(parser.error().status, 413);
  // Exactly the limit is taken.
  const auto at_limit = parseInSteps(
      post("Transfer-Encoding: chunked\r\n", chunkedBody(std::string(65536, 'y'), 1000)));
  ASSERT_EQ(at_limit.state(), State::kComplete);
  EXPECT_EQ(at_limit.request().body.size(), 65536u);
}

TEST(RequestParser, ALengthOverTheLimitIsRefusedBeforeTheBody) {
  RequestParser parser;
  parser.feed(post("Content-Length: 65537\r\n", ""));
  EXPECT_EQ(parser.state(), State::kFailed);
  EXPECT_EQ(parser.error().status, 413);
  expectRefused(post("Content-Length: 99999999999999999999999\r\n", ""), 413);
}

TEST(RequestParser, RefusesAmbiguousFraming) {
  expectRefused(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "abc"), 400,
                "together");
  expectRefused(post("Transfer-Encoding: gzip, chunked\r\n", ""), 400, "chunked");
  expectRefused(post("Transfer-Encoding: chunked, chunked\r\n", ""), 400, "chunked");
  expectRefused(post("Transfer-Encoding: identity\r\n", ""), 400, "chunked");
  expectRefused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0");
  expectRefused(post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"), 400, "twice");
  expectRefused(post("Content-Length: 3, 4\r\n", "abcd"), 400, "twice");
  expectRefused(post("Content-Length: -3\r\n", "abc"), 400, "whole number");
  expectRefused(post("Content-Length: 0x10\r\n", ""), 400, "whole number");
  expectRefused(post("Content-Length:\r\n", ""), 400, "whole number");
  expectRefused(post("Transfer-Encoding: chunked\r\n", "zz\r\n"), 400, "hexadecimal");
  expectRefused(post("Transfer-Encoding: chunked\r\n", "3\r\nabcX\r\n"), 400, "CRLF");
  // The same length twice is one length.
  const auto same = parseInSteps(post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"));
  EXPECT_EQ(same.state(), State::kComplete);
}

TEST(RequestParser, RefusesEveryContentEncodingButIdentity) {
  expectRefused(post("Content-Encoding: gzip\r\nContent-Length: 3\r\n", "abc"), 415, "gzip");
  expectRefused(post("Content-Encoding: br\r\n", ""), 415);
  expectRefused(post("Content-Encoding: identity, deflate\r\n", ""), 415);
  EXPECT_EQ(parseInSteps(post("Content-Encoding: Identity\r\n", "")).state(), State::kComplete);
}

TEST(RequestParser, PausesAfterTheHeadersWhenTheClientWaitsFor100Continue) {
  RequestParser parser;
  const std::string head = post("Expect: 100-continue\r\nContent-Length: 3\r\n", "");
  EXPECT_EQ(parser.feed(head + "abc"), head.size());
  ASSERT_EQ(parser.state(), State::kHeadersComplete);
  EXPECT_TRUE(parser.request().expects_continue);
  EXPECT_EQ(parser.feed("abc"), 3u);
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().body, "abc");
  // Nothing to wait for without a body.
  RequestParser empty;
  empty.feed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(empty.state(), State::kComplete);
  EXPECT_FALSE(empty.request().expects_continue);
  expectRefused(post("Expect: something-else\r\n", ""), 417);
}

TEST(RequestParser, KeepsHeaderValuesAsSentAndRefusesControlBytes) {
  const auto parser = parseInSteps("GET / HTTP/1.1\r\nAuthorization: Bearer%20abc\r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(*parser.request().header("Authorization"), "Bearer%20abc");
  expectRefused("GET / HTTP/1.1\r\nAuthorization: Bearer abc\0junk\r\n\r\n"s, 400, "NUL");
  expectRefused("GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n", 400, "control");
  expectRefused("GET / HTTP/1.1\r\nX-A: a\rz\r\n\r\n", 400, "control");
  expectRefused("GET / HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n", 400, "obs-fold");
  expectRefused("GET / HTTP/1.1\r\nX-A : a\r\n\r\n", 400, "Name: value");
  expectRefused("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "Name: value");
  expectRefused("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "Name: value");
}

TEST(RequestParser, RefusesMalformedRequestLines) {
  expectRefused("GET  / HTTP/1.1\r\n\r\n", 400, "METHOD TARGET");
  expectRefused("GET /\r\n\r\n", 400, "METHOD TARGET");
  expectRefused("GET / HTTP/1.1 extra\r\n\r\n", 400, "METHOD TARGET");
  expectRefused("GET / HTTP/2.0\r\n\r\n", 400, "HTTP/1.1");
  expectRefused("GET / http/1.1\r\n\r\n", 400, "HTTP/1.1");
  expectRefused("G(T / HTTP/1.1\r\n\r\n", 400, "token");
  expectRefused("GET /\x7f HTTP/1.1\r\n\r\n", 400, "visible ASCII");
  expectRefused("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "visible ASCII");
  expectRefused(std::string(9000, '\n'), 400, "empty lines");
}

TEST(RequestParser, AppliesTheSizeLimitsOfTheHead) {
  expectRefused("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414);
  expectRefused("GET / HTTP/1.1\r\nX-A: " + std::string(9000, 'a') + "\r\n\r\n", 431, "X-A");
  // Exactly at a limit is taken; the lines count as cpp-httplib reads them, ended by CRLF.
  const std::string at_line_limit = "X-A:" + std::string(8192 - 6, 'a');
  EXPECT_EQ(parseInSteps("GET / HTTP/1.1\r\n" + at_line_limit + "\r\n\r\n").state(),
            State::kComplete);
  expectRefused("GET / HTTP/1.1\r\n" + at_line_limit + "a\r\n\r\n", 431, "X-A");
  expectRefused("GET / HTTP/1.1\r\n" + at_line_limit + "a\n\n", 431, "X-A");
  const std::string at_target_limit = "/" + std::string(8192 - 16, 'a');
  EXPECT_EQ(parseInSteps("GET " + at_target_limit + " HTTP/1.1\r\n\r\n").state(), State::kComplete);
  // 8,192 bytes with a bare LF would be 8,193 as cpp-httplib reads it.
  expectRefused("GET " + at_target_limit + "a HTTP/1.1\n\n", 414);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  expectRefused(many + "\r\n", 431, "100 header fields");
  std::string large = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i)
    large += "X-" + std::to_string(i) + ": " + std::string(4000, 'v') + "\r\n";
  expectRefused(large + "\r\n", 431, "header section");
  // Trailers count toward the header section too.
  std::string trailers = post("Transfer-Encoding: chunked\r\n", "0\r\n");
  for (int i = 0; i < 5; ++i)
    trailers += "T-" + std::to_string(i) + ": " + std::string(4000, 't') + "\r\n";
  expectRefused(trailers + "\r\n", 431);
}

TEST(RequestParser, NormalizedRequestCarriesTheRequestLineKeepAliveAndDecodedBody) {
  auto parser = parseInSteps(
      post("Transfer-Encoding: chunked\r\nRange: bytes=0-3\r\nAuthorization: Bearer 50%off\r\n",
           chunkedBody("abc", 2)));
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(normalizedRequest(parser.request()),
            "POST /v1/orders HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(
      normalizedRequest(parseInSteps("GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n").request()),
      "GET / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(
      normalizedRequest(parseInSteps("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request()),
      "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(normalizedRequest(parseInSteps("GET / HTTP/1.0\r\n\r\n").request()),
            "GET / HTTP/1.0\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

TEST(RequestParser, KnowsWhichHeadersNoHandlerSees) {
  for (const char* consumed :
       {"content-length", "Transfer-Encoding", "CONTENT-ENCODING", "Expect", "Range", "If-Range"}) {
    EXPECT_TRUE(isConsumedByConnection(consumed)) << consumed;
  }
  for (const char* kept : {"Authorization", "Idempotency-Key", "Content-Type", "Connection"}) {
    EXPECT_FALSE(isConsumedByConnection(kept)) << kept;
  }
}

TEST(RequestParser, KeepsEmptyHeaderValues) {
  const auto parser = parseInSteps("GET / HTTP/1.1\r\nIdempotency-Key:\r\nX-B:   \r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  ASSERT_NE(parser.request().header("Idempotency-Key"), nullptr);
  EXPECT_EQ(*parser.request().header("Idempotency-Key"), "");
  EXPECT_EQ(*parser.request().header("X-B"), "");
}

TEST(RequestParser, ChunkFramingCountsTowardABudgetAsLargeAsTheBodys) {
  // 20,000 one-byte chunks: a 20 KB body in 120 KB of framing.
  expectRefused(post("Transfer-Encoding: chunked\r\n", chunkedBody(std::string(20000, 'x'), 1)),
                413, "framing");
  expectRefused(post("Transfer-Encoding: chunked\r\n", "1;" + std::string(200, 'e') + "\r\n"), 400,
                "chunk-size line");
  // Chunks of 64 bytes are ordinary: a full body in them is taken.
  const auto ordinary = parseInSteps(
      post("Transfer-Encoding: chunked\r\n", chunkedBody(std::string(65536, 'y'), 64)));
  EXPECT_EQ(ordinary.state(), State::kComplete);
}

TEST(RequestParser, LeadingZerosDoNotCountTowardTheDigitLimits) {
  const auto padded = parseInSteps(post("Content-Length: 0000000000000000000000003\r\n", "abc"));
  ASSERT_EQ(padded.state(), State::kComplete);
  EXPECT_EQ(padded.request().body, "abc");
  const auto chunk =
      parseInSteps(post("Transfer-Encoding: chunked\r\n",
                        "00000000000000000003\r\nabc\r\n00000000000000000000\r\n\r\n"));
  ASSERT_EQ(chunk.state(), State::kComplete);
  EXPECT_EQ(chunk.request().body, "abc");
}

TEST(RequestParser, CloseWinsAndHttp10NeverWaitsFor100Continue) {
  EXPECT_FALSE(
      parseInSteps("GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n").request().keep_alive);
  EXPECT_FALSE(parseInSteps("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
                   .request()
                   .keep_alive);
  RequestParser http10;
  http10.feed("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(http10.state(), State::kIncomplete);
  EXPECT_FALSE(http10.request().expects_continue);
  // A body over the limit is refused at once: no 100 Continue invites it.
  RequestParser over;
  over.feed(post("Expect: 100-continue\r\nContent-Length: 70000\r\n", ""));
  EXPECT_EQ(over.state(), State::kFailed);
  EXPECT_EQ(over.error().status, 413);
}

}  // namespace
}  // namespace outpost::http
