// `outpost doctor`, the real binary: a healthy box, each dependency down (refused and
// hung, answered within a bound thanks to the parallel checks), a file this user cannot
// write, schema versions on either side, a node already running. Every test also checks
// that doctor changed nothing: the folder lists the same files and the database's bytes
// are the same.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/file_probe.h"
#include "store/migrations.h"
#include "support/fake_services.h"
#include "support/fauxqs.h"
#include "support/node_process.h"
#include "support/test_certificate.h"

namespace outpost::testing {
namespace {

using Env = std::map<std::string, std::string>;

const char* const kInit = R"({"queues": [{"name": "orders"}], "topics": [{"name": "events"}]})";
const char* const kTopicArn = "arn:aws:sns:us-east-1:000000000000:events";

// Every file of `dir`; the bytes only of those named in `with_bytes`.
std::map<std::string, std::string> snapshot(const TempDir& dir,
                                            const std::vector<std::string>& with_bytes) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    const bool read = std::find(with_bytes.begin(), with_bytes.end(), name) != with_bytes.end();
    files[name] = read ? readFile(entry.path().string()) : "";
  }
  return files;
}

// The verdict doctor printed for `check` ("ok", "warn", "fail"), and its detail.
std::pair<std::string, std::string> line(const std::string& output, const std::string& check) {
  std::istringstream lines(output);
  std::string text;
  while (std::getline(lines, text)) {
    std::istringstream words(text);
    std::string verdict, name;
    words >> verdict >> name;
    if (name == check + ":") return {verdict, text.substr(text.find(": ") + 2)};
  }
  return {"", ""};
}

std::string migrated(const TempDir& dir) {
  const std::string database = dir.file("outpost.db");
  auto result = runOutpost({"migrate"}, {{"OUTPOST_DATABASE", database}});
  EXPECT_EQ(result.exit_status, 0) << result.output;
  return database;
}

// What a healthy run's filesystem check says here: tmpfs (some CI machines' /tmp) warns.
std::string expectedFilesystemVerdict(const TempDir& dir) {
  auto type = store::filesystemType(dir.path());
  return type && store::classifyFilesystem(*type).kind == store::FilesystemKind::kLocal ? "ok"
                                                                                        : "warn";
}

struct Timed {
  RunResult result;
  double seconds = 0;
};

Timed timedDoctor(const Env& env, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"doctor"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto start = std::chrono::steady_clock::now();
  Timed timed{runOutpost(args, env), 0};
  timed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return timed;
}

class DoctorTest : public ::testing::Test {
 protected:
  // Every dependency configured against `product`, `delivery` and `events_endpoint`.
  Env configured(const std::string& database, const std::string& product,
                 const std::string& delivery, const std::string& events_endpoint,
                 const std::string& queue_url) {
    return {{"OUTPOST_DATABASE", database},
            {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(freeLoopbackPort())},
            {"OUTPOST_PRODUCT_SERVICE_URL", product},
            {"OUTPOST_DELIVERY_SERVICE_URL", delivery},
            {"OUTPOST_EVENTS_ENDPOINT_URL", events_endpoint},
            {"OUTPOST_EVENTS_SNS_TOPIC_ARN", kTopicArn},
            {"OUTPOST_EVENTS_SQS_QUEUE_URL", queue_url},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"}};
  }

  void expectEveryDependencyFailsFast(const Env& env) {
    const Timed timed = timedDoctor(env);
    std::printf("all-down doctor run: %.2f s\n%s", timed.seconds, timed.result.output.c_str());
    EXPECT_EQ(timed.result.exit_status, 1) << timed.result.output;
    EXPECT_LT(timed.seconds, 6.0) << "the dependency checks must run at once, 3 s each at most";
    for (const char* check : {"product-service", "delivery-service", "sns", "sqs"}) {
      EXPECT_EQ(line(timed.result.output, check).first, "fail") << check << "\n"
                                                                << timed.result.output;
    }
    EXPECT_EQ(line(timed.result.output, "clock").first, "warn") << timed.result.output;
    EXPECT_EQ(line(timed.result.output, "database").first, "ok") << timed.result.output;
  }
};

TEST_F(DoctorTest, AHealthyBoxPassesEveryCheckAndChangesNothing) {
  TempDir dir;
  TempDir peers;
  FakeProductService product;
  FakeDeliveryService delivery;
  auto fauxqs = Fauxqs::start(peers, kInit);
  ASSERT_NE(fauxqs, nullptr);
  const std::string database = migrated(dir);
  const Env env = configured(database, product.url(), delivery.url(), fauxqs->endpoint(),
                             fauxqs->endpoint() + "/000000000000/orders");
  const auto before = snapshot(dir, {"outpost.db"});

  const Timed text = timedDoctor(env);
  std::printf("healthy doctor run: %.2f s\n%s", text.seconds, text.result.output.c_str());
  EXPECT_EQ(text.result.exit_status, 0) << text.result.output;
  for (const char* check : {"config", "database", "disk", "listen", "product-service",
                            "delivery-service", "sns", "sqs", "clock"}) {
    EXPECT_EQ(line(text.result.output, check).first, "ok") << check << "\n" << text.result.output;
  }
  EXPECT_EQ(line(text.result.output, "filesystem").first, expectedFilesystemVerdict(dir));
  EXPECT_NE(text.result.output.find("doctor: 10 checks, 0 failed"), std::string::npos);
  EXPECT_EQ(product.requestCount("/availability"), 1);

  const Timed json_run = timedDoctor(env, {"--json"});
  EXPECT_EQ(json_run.result.exit_status, 0) << json_run.result.output;
  const auto document = nlohmann::json::parse(json_run.result.output);
  EXPECT_EQ(document["ok"], true);
  ASSERT_EQ(document["checks"].size(), 10u);
  for (const auto& check : document["checks"]) {
    EXPECT_TRUE(check.contains("name") && check.contains("status") && check.contains("detail"));
    if (check["name"] != "filesystem") {
      EXPECT_EQ(check["status"], "ok") << check.dump();
    }
  }
  EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
}

TEST_F(DoctorTest, DependenciesRefusingOrHangingFailWithinABound) {
  TempDir dir;
  FakeDeliveryService delivery;
  delivery.setFault(Fault::kHang);
  FakeProductService hanging_events;  // any HTTP server that never answers
  hanging_events.setFault(Fault::kHang);
  const std::string database = migrated(dir);
  const auto before = snapshot(dir, {"outpost.db"});
  const std::string closed = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  expectEveryDependencyFailsFast(configured(database, closed, delivery.url(), hanging_events.url(),
                                            hanging_events.url() + "/1/q"));
  EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
}

TEST_F(DoctorTest, DependenciesRefusingOrHangingTheOtherWayRoundFailWithinABound) {
  TempDir dir;
  FakeProductService product;
  product.setFault(Fault::kHang);
  const std::string database = migrated(dir);
  const auto before = snapshot(dir, {"outpost.db"});
  const std::string closed = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  expectEveryDependencyFailsFast(
      configured(database, product.url(), closed, closed, closed + "/000000000000/orders"));
  EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
}

TEST_F(DoctorTest, ADatabaseThisUserCannotWriteFailsNamingTheFile) {
  TempDir dir;
  const std::string database = migrated(dir);
  const Env env = {{"OUTPOST_DATABASE", database},
                   {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(freeLoopbackPort())}};
  ASSERT_EQ(chmod(database.c_str(), 0644), 0);
  RunResult result;
  if (geteuid() == 0) {
    // Root may write anything (access(2) says so): look as nobody, who may read only.
    ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
    const auto before = snapshot(dir, {"outpost.db"});
    result = runOutpostAs(65534, 65534, {"doctor"}, env);
    EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
  } else {
    ASSERT_EQ(chmod(dir.path().c_str(), 0500), 0);
    const auto before = snapshot(dir, {"outpost.db"});
    result = runOutpost({"doctor"}, env);
    EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
    chmod(dir.path().c_str(), 0700);
  }
  EXPECT_EQ(result.exit_status, 1) << result.output;
  const auto [verdict, detail] = line(result.output, "database");
  EXPECT_EQ(verdict, "fail") << result.output;
  EXPECT_NE(detail.find(database + ": not writable by this user"), std::string::npos) << detail;
  EXPECT_NE(detail.find(dir.path() + "/"), std::string::npos) << detail;  // its directory
}

TEST_F(DoctorTest, ANewerSchemaFailsAndAnOlderOneSaysToMigrate) {
  TempDir dir;
  const std::string database = migrated(dir);
  const int latest = store::latestSchemaVersion(store::embeddedMigrations());
  const Env env = {{"OUTPOST_DATABASE", database},
                   {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(freeLoopbackPort())}};
  {
    SQLite::Database db(database, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
            std::to_string(latest + 1) + ", 'from the future', 0)");
  }
  auto before = snapshot(dir, {"outpost.db"});
  auto newer = runOutpost({"doctor"}, env);
  EXPECT_EQ(newer.exit_status, 1) << newer.output;
  EXPECT_EQ(line(newer.output, "database").first, "fail") << newer.output;
  EXPECT_NE(line(newer.output, "database").second.find("upgrade outpost"), std::string::npos);
  EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);

  {
    SQLite::Database db(database, SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM schema_migrations WHERE version >= " + std::to_string(latest));
  }
  before = snapshot(dir, {"outpost.db"});
  auto older = runOutpost({"doctor"}, env);
  EXPECT_EQ(older.exit_status, 0) << older.output;  // a warning: serve migrates it at start
  EXPECT_EQ(line(older.output, "database").first, "warn") << older.output;
  EXPECT_NE(line(older.output, "database").second.find("run 'outpost migrate'"), std::string::npos);
  EXPECT_EQ(snapshot(dir, {"outpost.db"}), before);
}

TEST_F(DoctorTest, AMissingDatabaseIsNotCreated) {
  TempDir dir;
  const Env env = {{"OUTPOST_DATABASE", dir.file("outpost.db")},
                   {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(freeLoopbackPort())}};
  auto result = runOutpost({"doctor"}, env);
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_EQ(line(result.output, "database").first, "ok") << result.output;
  EXPECT_NE(result.output.find("created at first start"), std::string::npos);
  EXPECT_EQ(line(result.output, "config").first, "warn");  // zero infrastructure: offline mode
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));

  auto nowhere = runOutpost({"doctor"}, {{"OUTPOST_DATABASE", dir.file("missing/outpost.db")}});
  EXPECT_EQ(nowhere.exit_status, 1) << nowhere.output;
  EXPECT_EQ(line(nowhere.output, "database").first, "fail") << nowhere.output;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST_F(DoctorTest, ARunningNodeIsReportedAndLeftAlone) {
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  const auto before = snapshot(dir, {});
  const Env env = {{"OUTPOST_DATABASE", node->database()},
                   {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(node->port())}};
  auto result = runOutpost({"doctor"}, env);
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_EQ(line(result.output, "listen").first, "ok") << result.output;
  EXPECT_NE(line(result.output, "listen").second.find("a node is already running"),
            std::string::npos);
  EXPECT_NE(line(result.output, "filesystem")
                .second.find("process " + std::to_string(node->pid()) + " holds one"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(line(result.output, "database").first, "ok") << result.output;
  EXPECT_EQ(snapshot(dir, {}), before);
}

TEST_F(DoctorTest, ARunningHttpsNodeIsRecognised) {
  TempDir dir;
  const TestCertificate certificate = makeTestCertificate(dir.path());
  NodeOptions options;
  options.env = {{"OUTPOST_TLS_CERT_FILE", certificate.cert_file},
                 {"OUTPOST_TLS_KEY_FILE", certificate.key_file}};
  auto node = NodeProcess::start(dir, options);
  ASSERT_NE(node, nullptr);
  auto result =
      runOutpost({"doctor"}, {{"OUTPOST_DATABASE", node->database()},
                              {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(node->port())},
                              {"OUTPOST_TLS_CERT_FILE", certificate.cert_file},
                              {"OUTPOST_TLS_KEY_FILE", certificate.key_file}});
  EXPECT_EQ(line(result.output, "listen").first, "ok") << result.output;
  EXPECT_NE(line(result.output, "listen").second.find("(HTTPS)"), std::string::npos);
}

TEST_F(DoctorTest, AnotherProgramOnThePortFails) {
  TempDir dir;
  FakeProductService squatter;
  auto result =
      runOutpost({"doctor"}, {{"OUTPOST_DATABASE", dir.file("outpost.db")},
                              {"OUTPOST_LISTEN", "127.0.0.1:" + std::to_string(squatter.port())}});
  EXPECT_EQ(result.exit_status, 1) << result.output;
  EXPECT_EQ(line(result.output, "listen").first, "fail") << result.output;
  EXPECT_NE(line(result.output, "listen").second.find("port taken by another program"),
            std::string::npos);
}

TEST_F(DoctorTest, ABadConfigurationIsTheOneFailingCheckAndExits2) {
  auto text = runOutpost({"doctor"}, {{"OUTPOST_COLOUR", "blue"}});
  EXPECT_EQ(text.exit_status, 2);
  EXPECT_EQ(line(text.output, "config").first, "fail") << text.output;
  EXPECT_NE(text.output.find("OUTPOST_COLOUR"), std::string::npos);
  auto json_run = runOutpost({"doctor", "--json"}, {{"OUTPOST_COLOUR", "blue"}});
  EXPECT_EQ(json_run.exit_status, 2);
  const auto document = nlohmann::json::parse(json_run.output);
  EXPECT_EQ(document["ok"], false);
  EXPECT_EQ(document["checks"].size(), 1u);

  EXPECT_EQ(runOutpost({"doctor", "--limit", "3"}).exit_status, 2);
  EXPECT_EQ(runOutpost({"doctor", "now"}).exit_status, 2);
  auto help = runOutpost({"doctor", "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.output.find("storage.min_free_bytes"), std::string::npos);
  EXPECT_NE(runOutpost({"--help"}).output.find("outpost doctor"), std::string::npos);
}

}  // namespace
}  // namespace outpost::testing
