// The command line: help, configuration errors (exit 2, one line naming the key), migrate,
// backup, and the zero-infrastructure start.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "support/node_process.h"

namespace outpost::testing {
namespace {

TEST(Cli, HelpListsCommandsAndConfigKeys) {
  auto help = runOutpost({"--help"});
  EXPECT_EQ(help.exit_status, 0);
  for (const char* command : {"serve", "migrate", "backup"}) {
    EXPECT_NE(help.output.find(command), std::string::npos) << command;
  }
  auto serve_help = runOutpost({"serve", "--help"});
  EXPECT_EQ(serve_help.exit_status, 0);
  EXPECT_NE(serve_help.output.find("OUTPOST_BREAKERS_DELIVERY_SERVICE_RESET_TIMEOUT_MS"),
            std::string::npos);
}

TEST(Cli, UnknownCommandIsUsageError) {
  auto result = runOutpost({"fly"});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_NE(result.output.find("unknown command"), std::string::npos);
}

TEST(Cli, BadConfigStopsStartupWithOneLineNamingTheKey) {
  TempDir dir;
  auto env_error = runOutpost({"serve"}, {{"OUTPOST_BREAKERS_EVENTS_RESET_TIMEOUT_MS", "soon"},
                                          {"OUTPOST_DATABASE", dir.file("a.db")}});
  EXPECT_EQ(env_error.exit_status, 2);
  EXPECT_NE(env_error.output.find("breakers.events.reset_timeout_ms"), std::string::npos)
      << env_error.output;
  EXPECT_EQ(std::count(env_error.output.begin(), env_error.output.end(), '\n'), 1)
      << env_error.output;

  auto unknown = runOutpost({"serve"}, {{"OUTPOST_COLOUR", "blue"}});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_NE(unknown.output.find("OUTPOST_COLOUR"), std::string::npos) << unknown.output;

  writeFile(dir.file("config.json"), R"({"delivery_service": {"urll": "http://x"}})");
  auto file_error = runOutpost({"serve", "--config", dir.file("config.json")});
  EXPECT_EQ(file_error.exit_status, 2);
  EXPECT_NE(file_error.output.find("delivery_service.urll"), std::string::npos)
      << file_error.output;
}

TEST(Cli, NonLoopbackListenWithoutTokensRefusesToStart) {
  TempDir dir;
  auto result = runOutpost(
      {"serve"}, {{"OUTPOST_LISTEN", "0.0.0.0:0"}, {"OUTPOST_DATABASE", dir.file("a.db")}});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_NE(result.output.find("listen"), std::string::npos) << result.output;
}

TEST(Cli, MigrateCreatesAndReportsTheSchema) {
  TempDir dir;
  auto first = runOutpost({"migrate"}, {{"OUTPOST_DATABASE", dir.file("m.db")}});
  EXPECT_EQ(first.exit_status, 0) << first.output;
  EXPECT_NE(first.output.find("schema version"), std::string::npos);
  SQLite::Database db(dir.file("m.db"), SQLite::OPEN_READONLY);
  EXPECT_TRUE(db.tableExists("orders"));
  EXPECT_TRUE(db.tableExists("outbox_events"));
  auto again = runOutpost({"migrate"}, {{"OUTPOST_DATABASE", dir.file("m.db")}});
  EXPECT_EQ(again.exit_status, 0);
  EXPECT_NE(again.output.find("applied 0 migrations"), std::string::npos) << again.output;
}

TEST(Cli, BackupCopiesARunningNodesOrders) {
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  auto client = node->client();
  for (int i = 0; i < 3; ++i) {
    auto response =
        client->Post("/v1/orders", R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})",
                     "application/json");
    ASSERT_EQ(response->status, 201);
  }
  const std::map<std::string, std::string> env = {{"OUTPOST_DATABASE", node->database()}};
  auto backup = runOutpost({"backup", dir.file("copy.db")}, env);
  ASSERT_EQ(backup.exit_status, 0) << backup.output;
  SQLite::Database copy(dir.file("copy.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(copy.execAndGet("SELECT COUNT(*) FROM orders").getInt(), 3);
  EXPECT_EQ(copy.execAndGet("SELECT COUNT(*) FROM outbox_events").getInt(), 3);

  auto refused = runOutpost({"backup", dir.file("copy.db")}, env);
  EXPECT_EQ(refused.exit_status, 2);
  EXPECT_NE(refused.output.find("already exists"), std::string::npos);
}

TEST(Cli, ServeWithNoConfigurationTakesOrders) {
  // Zero infrastructure: only the port and the data directory differ from the defaults.
  TempDir dir;
  auto node = NodeProcess::start(dir);
  ASSERT_NE(node, nullptr);
  auto response = node->client()->Post(
      "/v1/orders", R"({"customerId":"c","items":[{"productId":"p","quantity":1}]})",
      "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_NE(node->logs().find("events wait in the outbox"), std::string::npos) << node->logs();
}

}  // namespace
}  // namespace outpost::testing
