// The checks of `outpost doctor`, each from made-up readings: both verdicts of each, and
// both sides of each limit (free space at the floor and twice it, skew at 5 min).
#include <gtest/gtest.h>

#include <cerrno>

#include "app/doctor_checks.h"
#include "support/scripted_http.h"

namespace outpost::app::doctor {
namespace {

using outpost::testing::ScriptedHttp;

constexpr std::int64_t kFloor = 104857600;
constexpr std::int64_t kMinute = 60 * 1000;

::testing::AssertionResult is(const Check& check, Verdict verdict, const std::string& part) {
  if (check.verdict == verdict && check.detail.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << toString(check.verdict) << " " << check.name << ": " << check.detail << " (wanted "
         << toString(verdict) << " with \"" << part << "\")";
}

Config everythingConfigured() {
  Config config;
  config.node_id = "kiosk-1";
  config.product_service.url = "http://products";
  config.delivery_service.url = "http://deliveries";
  config.events.sqs_queue_url = "http://sqs/q";
  return config;
}

TEST(DoctorConfig, EverythingConfiguredOnLoopbackIsOk) {
  EXPECT_TRUE(is(checkConfig(everythingConfigured()), Verdict::kOk, "kiosk-1"));
}

TEST(DoctorConfig, ZeroInfrastructureWarnsOfOfflineModeAndMissingServices) {
  const Check check = checkConfig(Config{});
  EXPECT_TRUE(is(check, Verdict::kWarn, "offline mode, events wait in the outbox"));
  EXPECT_TRUE(is(check, Verdict::kWarn, "no product_service.url"));
  EXPECT_TRUE(is(check, Verdict::kWarn, "no delivery_service.url"));
}

TEST(DoctorConfig, TokensInClearOnTheNetworkWarn) {
  Config config = everythingConfigured();
  config.listen = "0.0.0.0:8080";
  config.listen_host = "0.0.0.0";
  config.api_token = "secret";
  EXPECT_TRUE(is(checkConfig(config), Verdict::kWarn, "tokens travel in clear"));
  config.tls.cert_file = "c.pem";
  config.tls.key_file = "k.pem";
  EXPECT_TRUE(is(checkConfig(config), Verdict::kOk, ""));
  config.api_token.reset();
  config.allow_unauthenticated = true;
  EXPECT_TRUE(is(checkConfig(config), Verdict::kWarn, "can take orders"));
}

TEST(DoctorConfig, ALoadFailureIsAFailingCheck) {
  EXPECT_TRUE(is(configFailure("config: listen: bad"), Verdict::kFail, "config: listen: bad"));
}

store::DatabaseFileReading goodFile(int version) {
  store::DatabaseFileReading reading;
  reading.exists = true;
  reading.quick_check = "ok";
  reading.schema_version = version;
  return reading;
}

TEST(DoctorDatabase, ACurrentReadableWritableFileIsOk) {
  EXPECT_TRUE(is(checkDatabase("/d/o.db", goodFile(7), true, 7), Verdict::kOk,
                 "/d/o.db: schema version 7, quick_check ok, writable"));
}

TEST(DoctorDatabase, AMissingFileIsOkOnlyWhereItCanBeCreated) {
  store::DatabaseFileReading missing;
  EXPECT_TRUE(
      is(checkDatabase("/d/o.db", missing, true, 7), Verdict::kOk, "created at first start"));
  EXPECT_TRUE(is(checkDatabase("/d/o.db", missing, false, 7), Verdict::kFail,
                 "/d is missing or not writable"));
}

TEST(DoctorDatabase, AnUnreadableOrDamagedFileFails) {
  store::DatabaseFileReading unreadable = goodFile(7);
  unreadable.error = "database: file is not a database";
  EXPECT_TRUE(is(checkDatabase("o.db", unreadable, true, 7), Verdict::kFail, "not a database"));
  store::DatabaseFileReading damaged = goodFile(7);
  damaged.quick_check = "*** in database main *** Page 3 is never used";
  EXPECT_TRUE(is(checkDatabase("o.db", damaged, true, 7), Verdict::kFail, "Page 3 is never used"));
}

TEST(DoctorDatabase, ANewerSchemaFailsAndAnOlderOneWarns) {
  EXPECT_TRUE(is(checkDatabase("o.db", goodFile(8), true, 7), Verdict::kFail, "upgrade outpost"));
  EXPECT_TRUE(is(checkDatabase("o.db", goodFile(6), true, 7), Verdict::kWarn, "outpost migrate"));
  EXPECT_TRUE(is(checkDatabase("o.db", goodFile(0), true, 7), Verdict::kWarn, "outpost migrate"));
}

TEST(DoctorDatabase, WhatThisUserCannotWriteFailsByName) {
  store::DatabaseFileReading reading = goodFile(7);
  reading.unwritable = {"/d/o.db", "/d/"};
  EXPECT_TRUE(is(checkDatabase("/d/o.db", reading, false, 7), Verdict::kFail,
                 "not writable by this user: /d/o.db, /d/"));
}

TEST(DoctorDatabase, AWalWithoutItsShmWarns) {
  store::DatabaseFileReading reading = goodFile(7);
  reading.wal_not_read = true;
  EXPECT_TRUE(is(checkDatabase("o.db", reading, true, 7), Verdict::kWarn, "without its -shm"));
}

TEST(DoctorDisk, BelowTheFloorFailsWithinTwiceItWarns) {
  const auto free = [](std::int64_t bytes) {
    return Result<std::uint64_t>(static_cast<std::uint64_t>(bytes));
  };
  EXPECT_TRUE(is(checkDisk("/d", free(kFloor - 1), kFloor), Verdict::kFail, "below"));
  EXPECT_TRUE(is(checkDisk("/d", free(kFloor), kFloor), Verdict::kWarn, "within twice"));
  EXPECT_TRUE(is(checkDisk("/d", free(2 * kFloor - 1), kFloor), Verdict::kWarn, "within twice"));
  EXPECT_TRUE(is(checkDisk("/d", free(2 * kFloor), kFloor), Verdict::kOk,
                 "200 MiB free on /d, floor 100 MiB"));
}

TEST(DoctorDisk, AZeroFloorIsOffAndAnUnreadableFilesystemFails) {
  EXPECT_TRUE(
      is(checkDisk("/d", Result<std::uint64_t>(std::uint64_t{10}), 0), Verdict::kOk, "no floor"));
  EXPECT_TRUE(is(checkDisk("/d", Error::unavailable("statvfs /d: No such file"), kFloor),
                 Verdict::kFail, "No such file"));
}

TEST(DoctorFilesystem, NetworkFilesystemsFail) {
  const store::LockProbe locks{true, "", 0};
  for (const auto& [magic, name] :
       std::vector<std::pair<std::int64_t, std::string>>{{0x6969, "nfs"},
                                                         {0xFF534D42, "cifs"},
                                                         {0xFE534D42, "smb2"},
                                                         {0x517B, "smb"},
                                                         {0x01021997, "9p"},
                                                         {0x00C36400, "ceph"}}) {
    EXPECT_TRUE(is(checkFilesystem("/d", Result<std::int64_t>(magic), locks), Verdict::kFail,
                   "on " + name + ", a network filesystem"));
  }
}

TEST(DoctorFilesystem, ALocalFilesystemWithWorkingLocksIsOk) {
  const Result<std::int64_t> ext4(0xEF53);
  EXPECT_TRUE(is(checkFilesystem("/d", ext4, store::LockProbe{true, "", 0}), Verdict::kOk,
                 "/d: local filesystem (type 0xef53), locks work"));
  EXPECT_TRUE(is(checkFilesystem("/d", ext4, store::LockProbe{true, "", 4242}), Verdict::kOk,
                 "process 4242 holds one"));
  EXPECT_TRUE(is(checkFilesystem("/d", ext4, std::nullopt), Verdict::kOk, "no file yet"));
}

TEST(DoctorFilesystem, BrokenLocksFailFuseAndTmpfsWarn) {
  EXPECT_TRUE(is(checkFilesystem("/d", Result<std::int64_t>(0xEF53),
                                 store::LockProbe{false, "fcntl(F_GETLK): No locks available", 0}),
                 Verdict::kFail, "No locks available"));
  const store::LockProbe locks{true, "", 0};
  EXPECT_TRUE(
      is(checkFilesystem("/d", Result<std::int64_t>(0x65735546), locks), Verdict::kWarn, "sshfs"));
  EXPECT_TRUE(is(checkFilesystem("/d", Result<std::int64_t>(0x01021994), locks), Verdict::kWarn,
                 "lost at reboot"));
  EXPECT_TRUE(is(checkFilesystem("/d", Error::unavailable("statfs /d: gone"), locks),
                 Verdict::kFail, "gone"));
}

TEST(DoctorClock, SkewOverFiveMinutesWarnsWithTheOffset) {
  const std::int64_t service = 1'772'532'000'000;
  const auto at = [&](std::int64_t skew) { return ClockReading{"SNS", service, service + skew}; };
  EXPECT_TRUE(is(checkClock(at(4 * kMinute + 59'000)), Verdict::kOk, "4m 59s ahead of SNS"));
  EXPECT_TRUE(is(checkClock(at(5 * kMinute)), Verdict::kOk, "5m 0s ahead"));
  EXPECT_TRUE(is(checkClock(at(5 * kMinute + 1'000)), Verdict::kWarn, "5m 1s ahead of SNS"));
  EXPECT_TRUE(is(checkClock(at(-(5 * kMinute + 1'000))), Verdict::kWarn, "5m 1s behind SNS"));
  EXPECT_TRUE(is(checkClock(at(120 * kMinute)), Verdict::kWarn, "the clock is 2h 0m ahead of SNS"));
  EXPECT_TRUE(is(checkClock(at(-(4 * kMinute + 59'000))), Verdict::kOk, "4m 59s behind"));
}

TEST(DoctorClock, NothingToCompareWithIsSaid) {
  EXPECT_TRUE(is(checkClock(std::nullopt), Verdict::kOk, "not checked"));
  EXPECT_TRUE(is(checkClock(ClockReading{"SQS", std::nullopt, 1}), Verdict::kWarn,
                 "could not be checked: no Date from SQS"));
}

TEST(DoctorService, AnyAnswerBelow500ProvesReachability) {
  const std::optional<std::string> url = "http://products";
  EXPECT_TRUE(
      is(checkService("product-service", std::nullopt, {}), Verdict::kOk, "not configured"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::answerText(404, "")),
                 Verdict::kOk, "answered HTTP 404: reachable"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::answerText(429, "")),
                 Verdict::kOk, "reachable"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::answerText(499, "")),
                 Verdict::kOk, "reachable"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::answerText(500, "")),
                 Verdict::kFail, "HTTP 500"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::answerText(302, "")),
                 Verdict::kFail, "captive portal"));
  EXPECT_TRUE(is(checkService("product-service", url, ScriptedHttp::refused()), Verdict::kFail,
                 "no answer: connection refused"));
  EXPECT_TRUE(is(checkService("delivery-service", url, ScriptedHttp::timedOut()), Verdict::kFail,
                 "timed out"));
}

clients::DescribeOutcome described(clients::CallClass call_class, int status, std::string error) {
  return {call_class, status, false, std::move(error), ""};
}

TEST(DoctorEventDestination, TheDescribeCallsAnswerDecides) {
  using clients::CallClass;
  const std::optional<std::string> queue = "http://sqs/q";
  EXPECT_TRUE(
      is(checkEventDestination("sqs", std::nullopt, {}, true), Verdict::kOk, "not configured"));
  EXPECT_TRUE(
      is(checkEventDestination("sqs", queue, described(CallClass::kSuccess, 200, ""), false),
         Verdict::kOk, "accepted"));
  EXPECT_TRUE(
      is(checkEventDestination(
             "sqs", queue, described(CallClass::kRetriable, 0, "sqs: connection refused"), false),
         Verdict::kFail, "no answer: sqs: connection refused"));
  EXPECT_TRUE(
      is(checkEventDestination(
             "sqs", queue,
             described(CallClass::kPermanent, 400, "sqs: QueueDoesNotExist (HTTP 400)"), false),
         Verdict::kFail, "QueueDoesNotExist (HTTP 400): refused for good"));
  EXPECT_TRUE(
      is(checkEventDestination(
             "sqs", queue,
             described(CallClass::kRetriable, 403, "sqs: SignatureDoesNotMatch (HTTP 403)"), false),
         Verdict::kFail, "SignatureDoesNotMatch (HTTP 403): the relay would keep"));
}

TEST(DoctorEventDestination, UnsignedRequestsToAwsWarn) {
  const std::optional<std::string> topic = "arn:aws:sns:eu-west-1:1:events";
  EXPECT_TRUE(is(checkEventDestination("sns", topic,
                                       described(clients::CallClass::kRetriable, 403,
                                                 "sns: MissingAuthenticationToken (HTTP 403)"),
                                       true),
                 Verdict::kWarn, "AWS refuses unsigned requests"));
  // No answer at all is a failure whatever the signing.
  EXPECT_TRUE(is(checkEventDestination(
                     "sns", topic, described(clients::CallClass::kRetriable, 0, "timed out"), true),
                 Verdict::kFail, "no answer"));
}

Config listeningOn(int port) {
  Config config;
  config.listen = "127.0.0.1:" + std::to_string(port);
  config.listen_port = port;
  return config;
}

TEST(DoctorListen, AnOutpostThereIsReportedRunning) {
  const Config config = listeningOn(8080);
  EXPECT_TRUE(is(checkListen(config, {ScriptedHttp::answerText(200, R"({"status":"ok"})"), 0}),
                 Verdict::kOk, "a node is already running on 127.0.0.1:8080"));
  EXPECT_TRUE(is(
      checkListen(config, {ScriptedHttp::answerText(400,
                                                    "this port takes HTTPS only: send the request "
                                                    "to https://"),
                           0}),
      Verdict::kOk, "already running on 127.0.0.1:8080 (HTTPS)"));
}

TEST(DoctorListen, AnotherProgramOnThePortFails) {
  const Config config = listeningOn(8080);
  EXPECT_TRUE(is(checkListen(config, {ScriptedHttp::answerText(404, "Not Found"), 0}),
                 Verdict::kFail, "port taken by another program"));
  EXPECT_TRUE(is(checkListen(config, {ScriptedHttp::timedOut(), EADDRINUSE}), Verdict::kFail,
                 "port taken by another program"));
  EXPECT_TRUE(is(checkListen(config, {ScriptedHttp::refused(), EADDRNOTAVAIL}), Verdict::kFail,
                 "not an address of this machine"));
}

TEST(DoctorListen, AFreePortIsOk) {
  EXPECT_TRUE(is(checkListen(listeningOn(8080), {ScriptedHttp::refused(), 0}), Verdict::kOk,
                 "127.0.0.1:8080: port free"));
  EXPECT_TRUE(is(checkListen(listeningOn(0), {}), Verdict::kOk, "a free port is picked"));
}

TEST(DoctorFormat, BytesAndDurations) {
  EXPECT_EQ(formatBytes(512), "512 B");
  EXPECT_EQ(formatBytes(104857600), "100 MiB");
  EXPECT_EQ(formatBytes(1610612736), "1.5 GiB");
  EXPECT_EQ(formatDuration(7'200'000), "2h 0m");
  EXPECT_EQ(formatDuration(-301'000), "5m 1s");
  EXPECT_EQ(formatDuration(3 * 86'400'000 + 4 * 3'600'000), "3d 4h");
  EXPECT_EQ(formatDuration(12'345), "12s");
}

}  // namespace
}  // namespace outpost::app::doctor
