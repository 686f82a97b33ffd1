#include "clients/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "support/eventually.h"
#include "support/node_process.h"

namespace outpost::clients {
namespace {

using outpost::testing::eventually;

// A port nothing listens on (bound, read back, closed).
int closedLoopbackPort() { return outpost::testing::freeLoopbackPort(); }

struct Received {
  std::string method;
  std::string body;
  std::string content_type;
  std::string custom_header;
  std::string authorization;
  std::string security_token;
  std::size_t amz_dates = 0;  // X-Amz-Date headers received
  std::string amz_date;
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1000);
    server_.Get(R"(/status/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      res.status = std::stoi(req.matches[1].str());
      res.set_content("status " + req.matches[1].str(), "text/plain");
    });
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        received_.method = req.method;
        received_.body = req.body;
        received_.content_type = req.get_header_value("Content-Type");
        received_.custom_header = req.get_header_value("X-Outpost-Test");
      }
      res.status = 201;
      res.set_content(R"({"created":true})", "application/json");
    };
    auto signed_call = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      received_.authorization = req.get_header_value("Authorization");
      received_.security_token = req.get_header_value("X-Amz-Security-Token");
      received_.amz_dates = req.get_header_value_count("X-Amz-Date");
      received_.amz_date = req.get_header_value("X-Amz-Date");
      res.set_content("signed", "text/plain");
    };
    server_.Get("/", signed_call);
    server_.Post("/signed", signed_call);
    server_.Post("/echo", record);
    server_.Put("/echo", record);
    server_.Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_.Get("/hang", [this](const httplib::Request&, httplib::Response& res) {
      ++hanging_;
      std::unique_lock lock(mutex_);
      released_.wait(lock, [this] { return release_; });
      res.set_content("late", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4096, 'x'), "text/plain");
    });
    server_.Get("/big-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
        const std::string chunk(1024, 'y');
        for (int i = 0; i < 4; ++i) sink.write(chunk.data(), chunk.size());
        sink.done();
        return true;
      });
    });
    server_.Get("/dated", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Date", "Tue, 03 Mar 2026 10:00:00 GMT");
      res.status = 404;
    });
    server_.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/status/200");
    });

    server_.set_socket_options([this](socket_t sock) { listen_socket_ = sock; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    // httplib listens with a backlog of 5; concurrent connects would overflow it.
    ASSERT_EQ(::listen(listen_socket_, SOMAXCONN), 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(eventually([this] { return server_.is_running(); }));
  }

  void TearDown() override {
    client_.reset();  // closes its keep-alive connections, so the server's threads end
    {
      std::lock_guard lock(mutex_);
      release_ = true;
    }
    released_.notify_all();
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  HttpResponse get(const std::string& path) {
    HttpRequest request;
    request.url = url(path);
    return client_->send(request);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int listen_socket_ = -1;
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  std::atomic<int> hanging_ = 0;  // requests that reached /hang
  Received received_;
  std::unique_ptr<CurlHttpClient> client_ = std::make_unique<CurlHttpClient>();
};

TEST_F(HttpClientTest, TheAnswersDateHeaderIsKeptWhateverTheStatus) {
  const HttpResponse response = get("/dated");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.date, "Tue, 03 Mar 2026 10:00:00 GMT");
  EXPECT_EQ(parseHttpDate(response.date), 1'772'532'000'000);
  EXPECT_EQ(get("/status/200").date, "");  // cpp-httplib sends no Date of its own
}

TEST(HttpClient, ParsesHttpDates) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784'111'777'000);
  EXPECT_EQ(parseHttpDate(""), std::nullopt);
  EXPECT_EQ(parseHttpDate("tomorrow-ish"), std::nullopt);
}

TEST(HttpClient, ClassifiesStatuses) {
  for (int status : {200, 201, 202, 204, 299}) {
    EXPECT_EQ(classifyStatus(status), CallClass::kSuccess) << status;
  }
  for (int status : {0, 408, 429, 500, 502, 503, 504, 599, 600, 42, 100, 300, 301, 302, 304}) {
    EXPECT_EQ(classifyStatus(status), CallClass::kRetriable) << status;
  }
  for (int status : {400, 401, 403, 404, 409, 410, 422, 499}) {
    EXPECT_EQ(classifyStatus(status), CallClass::kPermanent) << status;
  }
}

TEST_F(HttpClientTest, SuccessCarriesTheBody) {
  for (int status : {200, 201}) {
    const HttpResponse response = get("/status/" + std::to_string(status));
    EXPECT_EQ(response.call_class, CallClass::kSuccess);
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.body, "status " + std::to_string(status));
    EXPECT_EQ(response.error, "");
    EXPECT_FALSE(response.timed_out);
  }
}

TEST_F(HttpClientTest, ServerErrorsAndThrottlingAreRetriable) {
  for (int status : {500, 503, 429, 408}) {
    const HttpResponse response = get("/status/" + std::to_string(status));
    EXPECT_EQ(response.call_class, CallClass::kRetriable) << status;
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.error, "HTTP " + std::to_string(status));
    EXPECT_FALSE(response.timed_out);
  }
}

TEST_F(HttpClientTest, OtherClientErrorsArePermanent) {
  for (int status : {400, 404, 409, 422}) {
    const HttpResponse response = get("/status/" + std::to_string(status));
    EXPECT_EQ(response.call_class, CallClass::kPermanent) << status;
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.body, "status " + std::to_string(status));
    EXPECT_EQ(response.error, "HTTP " + std::to_string(status));
  }
}

TEST_F(HttpClientTest, RedirectsAreNotFollowedAndAreNoAnswer) {
  const HttpResponse response = get("/redirect");
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.call_class, CallClass::kRetriable);  // a captive portal, not the service
}

TEST_F(HttpClientTest, ConnectionRefusedIsRetriableWithoutStatus) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(closedLoopbackPort()) + "/x";
  const HttpResponse response = client_->send(request);
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error, "connection refused");
  EXPECT_FALSE(response.timed_out);
}

TEST_F(HttpClientTest, HangingServerTimesOut) {
  HttpRequest request;
  request.url = url("/hang");
  request.timeout_ms = 300;
  const auto started = std::chrono::steady_clock::now();
  const HttpResponse response = client_->send(request);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_TRUE(response.timed_out);
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error, "timed out after 300 ms");
  EXPECT_LT(elapsed, std::chrono::milliseconds(300) + std::chrono::seconds(2));
}

TEST_F(HttpClientTest, ACancelledCallEndsWithoutWaitingForItsTimeout) {
  std::atomic<bool> stopping = false;
  HttpRequest request;
  request.url = url("/hang");
  request.timeout_ms = 600000;  // the test would time out long before this
  request.cancelled = [&] { return stopping.load(); };
  std::thread stopper([&] {
    EXPECT_TRUE(eventually([&] { return hanging_ > 0; }));  // the call is under way
    stopping = true;
  });
  const HttpResponse response = client_->send(request);
  stopper.join();
  EXPECT_TRUE(response.cancelled);
  EXPECT_FALSE(response.timed_out);
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_EQ(response.error, "cancelled: the node is stopping");
}

TEST_F(HttpClientTest, HeadersAndBodyArrive) {
  HttpRequest request;
  request.method = "POST";
  request.url = url("/echo");
  request.headers = {{"X-Outpost-Test", "hello"}};
  request.body = R"({"orderId":"o-1"})";
  HttpResponse response = client_->send(request);
  EXPECT_EQ(response.call_class, CallClass::kSuccess);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, R"({"created":true})");
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(received_.method, "POST");
    EXPECT_EQ(received_.body, R"({"orderId":"o-1"})");
    EXPECT_EQ(received_.content_type, "application/json");  // the default for a body
    EXPECT_EQ(received_.custom_header, "hello");
  }

  request.method = "PUT";
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  request.body = std::string(5000, 'b');  // large enough for curl's 100-continue by default
  response = client_->send(request);
  EXPECT_EQ(response.call_class, CallClass::kSuccess);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(received_.method, "PUT");
  EXPECT_EQ(received_.body, std::string(5000, 'b'));
  EXPECT_EQ(received_.content_type, "application/x-amz-json-1.0");
}

TEST_F(HttpClientTest, SequentialCallsReuseOneConnection) {
  std::set<std::string> remote_ports;
  for (int i = 0; i < 6; ++i) {
    const HttpResponse response = get("/port");
    ASSERT_EQ(response.call_class, CallClass::kSuccess) << response.error;
    remote_ports.insert(response.body);
  }
  EXPECT_EQ(remote_ports.size(), 1u);
}

TEST_F(HttpClientTest, BodyOverTheCapIsRetriable) {
  client_ = std::make_unique<CurlHttpClient>(CurlHttpClientOptions{.max_body_bytes = 2048});
  for (const char* path : {"/big", "/big-chunked"}) {
    const HttpResponse response = get(path);
    EXPECT_EQ(response.call_class, CallClass::kRetriable) << path;
    EXPECT_EQ(response.error, "response body larger than 2048 bytes") << path;
    EXPECT_EQ(response.body, "") << path;
  }
  EXPECT_EQ(get("/status/200").call_class, CallClass::kSuccess);  // the handle still works
}

TEST_F(HttpClientTest, InvalidUrlIsRetriable) {
  HttpRequest request;
  request.url = "ftp://127.0.0.1/x";
  const HttpResponse response = client_->send(request);
  EXPECT_EQ(response.call_class, CallClass::kRetriable);
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error, "");
}

TEST_F(HttpClientTest, ConcurrentCallsAllSucceed) {
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (get("/status/200").call_class == CallClass::kSuccess) ++successes;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 160);
}

}  // namespace
}  // namespace outpost::clients

namespace outpost::clients {
namespace {

// AWS's published Signature Version 4 test suite, case "get-vanilla": the same request,
// date and example credentials must give AWS's signature.
constexpr const char* kGetVanillaAuthorization =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

TEST_F(HttpClientTest, SigV4MatchesAwsPublishedTestVector) {
  HttpRequest request;
  request.url = url("/");
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  request.aws_sigv4 = AwsSigning{"us-east-1", "service", "AKIDEXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  ASSERT_EQ(client_->send(request).call_class, CallClass::kSuccess);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(received_.authorization, kGetVanillaAuthorization);
  EXPECT_TRUE(received_.security_token.empty());
}

TEST_F(HttpClientTest, SigV4SendsTheSessionTokenWhenSet) {
  HttpRequest request;
  request.url = url("/");
  request.aws_sigv4 = AwsSigning{"eu-west-1", "sqs", "AKID", "secret", "session-token-1"};
  ASSERT_EQ(client_->send(request).call_class, CallClass::kSuccess);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(received_.security_token, "session-token-1");
  EXPECT_NE(received_.authorization.find("/eu-west-1/sqs/aws4_request"), std::string::npos)
      << received_.authorization;
  EXPECT_EQ(received_.authorization.find("secret"), std::string::npos);
}

// SPEC §11: signed at a corrected time by outpost's own signer (clients/aws_sigv4.h).
// The same published vector as above.
TEST_F(HttpClientTest, SigV4AtAGivenTimeMatchesAwsPublishedTestVector) {
  HttpRequest request;
  request.url = url("/");
  request.headers = {{"Host", "example.amazonaws.com"}};
  request.aws_sigv4 = AwsSigning{
      "us-east-1", "service",         "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "",          "20150830T123600Z"};
  ASSERT_EQ(client_->send(request).call_class, CallClass::kSuccess);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(received_.authorization, kGetVanillaAuthorization);
  EXPECT_EQ(received_.amz_dates, 1u);
  EXPECT_EQ(received_.amz_date, "20150830T123600Z");
}

// An SQS call as the node sends it (a body, its content type and target, a session token,
// the host with its port): outpost's signature at a given time is the one libcurl 7.88
// computes when handed that time as an X-Amz-Date header (which it then sends twice, curl
// issue #11738; outpost's signer sends it once).
TEST_F(HttpClientTest, SigV4AtAGivenTimeIsLibcurlsSignatureWithTheDateSentOnce) {
  HttpRequest request;
  request.method = "POST";
  request.url = url("/signed");
  request.body = R"({"QueueUrl":"q","MessageBody":"{\"eventId\":\"e-1\"}"})";
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "AmazonSQS.SendMessage"}};
  request.aws_sigv4 = AwsSigning{"eu-west-1", "sqs", "AKID", "secret", "token-1"};

  HttpRequest by_curl = request;
  by_curl.headers.emplace_back("X-Amz-Date", "20260303T120000Z");
  ASSERT_EQ(client_->send(by_curl).call_class, CallClass::kSuccess);
  std::string curls;
  {
    std::lock_guard lock(mutex_);
    curls = received_.authorization;
  }
  request.aws_sigv4->signing_time = "20260303T120000Z";
  ASSERT_EQ(client_->send(request).call_class, CallClass::kSuccess);

  std::lock_guard lock(mutex_);
  EXPECT_NE(curls.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                       "x-amz-target,"),
            std::string::npos)
      << curls;
  EXPECT_EQ(received_.authorization, curls);
  EXPECT_EQ(received_.amz_dates, 1u);
  EXPECT_EQ(received_.amz_date, "20260303T120000Z");
  EXPECT_EQ(received_.security_token, "token-1");
}

}  // namespace
}  // namespace outpost::clients
