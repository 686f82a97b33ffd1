#include <SQLiteCpp/Backup.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "app/drain_cli.h"
#include "app/outbox_cli.h"
#include "app/review_cli.h"
#include "app/serve.h"
#include "app/status_cli.h"
#include "outpost/app.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "store/connection.h"
#include "store/errors.h"
#include "store/migrations.h"

namespace outpost {
namespace {

constexpr const char* kMainHelp =
    R"(outpost: a store-front edge node that takes orders and never loses them.

Usage:
  outpost serve   [--config FILE]          run the node (HTTP API on 127.0.0.1:8080 by default)
  outpost migrate [--config FILE]          apply database migrations and exit
  outpost backup FILE [--config FILE]      copy the database to FILE while the node may run
  outpost status [--json]                  the health figures, from the file (server down too)
  outpost outbox list [--status S] [--limit N] [--json]
                                           show outbox events (newest first), from the file
  outpost outbox retry EVENT_ID            put a FAILED event back to PENDING
  outpost review list [--limit N] [--json] show the open manual review items, from the file
  outpost review resolve ORDER_ID --action approve|cancel [--note TEXT]
                                           resolve an order's review
  outpost drain [--timeout-ms N] [--resume] [--config FILE]
                                           before switching the box off: the running node
                                           stops taking orders and forwards its events and
                                           deliveries now (--resume: take orders again)
  outpost COMMAND --help                   help on one command
  outpost --version

Configuration: a JSON file (--config) and OUTPOST_* environment variables, which win.
With neither, the node keeps its data in ./outpost.db and its events in the outbox.
Exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration.
)";

constexpr const char* kServeHelp = R"(Usage: outpost serve [--config FILE]

Runs the node until SIGTERM or SIGINT, then finishes in-flight requests and exits.
Logs are JSON lines on stderr. Every configuration key and its environment variable:
)";

constexpr const char* kServeAwsHelp = R"(
Events go to events.sns_topic_arn and/or events.sqs_queue_url. AWS_REGION and
AWS_ENDPOINT_URL give events.region and events.endpoint_url when those are not set.
Requests are signed (SigV4) with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN from the environment, and sent unsigned when they are not set.
)";

constexpr const char* kMigrateHelp = R"(Usage: outpost migrate [--config FILE]

Applies the schema migrations this binary carries to the configured database (serve
does the same at start-up) and prints the schema version.
)";

constexpr const char* kBackupHelp = R"(Usage: outpost backup FILE [--config FILE]

Copies the configured database to FILE with SQLite's online backup, consistent even while
the node is taking orders. FILE must not exist yet.
)";

struct Arguments {
  std::string command;
  std::vector<std::string> positional;
  std::optional<std::string> config_file;
  std::map<std::string, std::string> options;  // of outbox and review: --limit N, --json, ...
  bool help = false;
};

// Options that take a value, and flags, beyond --config and --help.
const std::set<std::string> kValueOptions = {"--status", "--limit", "--action", "--note",
                                             "--timeout-ms"};
const std::set<std::string> kFlags = {"--json", "--resume"};

int usageError(const std::string& message) {
  std::fprintf(stderr, "outpost: %s (see outpost --help)\n", message.c_str());
  return 2;
}

std::optional<Arguments> parseArguments(int argc, char** argv, std::string& error) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--config") {
      if (i + 1 >= argc) {
        error = "--config needs a file name";
        return std::nullopt;
      }
      args.config_file = argv[++i];
    } else if (arg.starts_with("--config=")) {
      args.config_file = arg.substr(9);
    } else if (kValueOptions.contains(arg)) {
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return std::nullopt;
      }
      args.options[arg] = argv[++i];
    } else if (kFlags.contains(arg)) {
      args.options[arg] = "true";
    } else if (arg.starts_with("-") && arg != "--version") {
      error = "unknown option " + arg;
      return std::nullopt;
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "outpost";
  return name;
}

std::optional<Config> loadConfigOrReport(const Arguments& args) {
  auto config = loadConfig({args.config_file, processEnvironment(), hostName()});
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return std::nullopt;
  }
  return *config;
}

void printServeHelp() {
  std::fputs(kServeHelp, stdout);
  for (const auto& [key, env] : configKeyNames())
    std::printf("  %-52s %s\n", key.c_str(), env.c_str());
  std::fputs(kServeAwsHelp, stdout);
}

int runMigrate(const Config& config) {
  auto connection = store::openConnection({config.database, config.database_busy_timeout_ms});
  if (!connection) {
    std::fprintf(stderr, "outpost: cannot open %s: %s\n", config.database.c_str(),
                 connection.error().message.c_str());
    return 1;
  }
  const SystemClock clock;
  auto report = store::migrate(**connection, store::embeddedMigrations(), clock.wallMillis());
  if (!report) {
    std::fprintf(stderr, "outpost: migration failed: %s\n", report.error().message.c_str());
    return 1;
  }
  std::printf("%s: schema version %d (was %d, applied %zu migration%s)\n", config.database.c_str(),
              report->to_version, report->from_version, report->applied.size(),
              report->applied.size() == 1 ? "" : "s");
  return 0;
}

int runBackup(const Config& config, const std::string& destination) {
  if (access(destination.c_str(), F_OK) == 0) {
    std::fprintf(stderr, "outpost: %s already exists; choose a new file\n", destination.c_str());
    return 2;
  }
  auto copied = store::guard([&] {
    SQLite::Database source(config.database, SQLite::OPEN_READONLY);
    source.setBusyTimeout(static_cast<int>(config.database_busy_timeout_ms));
    SQLite::Database target(destination, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Backup backup(target, source);
    // One step: in WAL mode it holds only a read snapshot, so the node keeps writing; in
    // smaller steps every commit of the node would restart the copy.
    backup.executeStep(-1);
    return backup.getTotalPageCount();
  });
  if (!copied) {
    std::fprintf(stderr, "outpost: backup failed: %s\n", copied.error().message.c_str());
    unlink(destination.c_str());
    return 1;
  }
  std::printf("backed up %s to %s (%d pages)\n", config.database.c_str(), destination.c_str(),
              *copied);
  return 0;
}

// Every command: its name, its --help, whether it takes options beyond --config, how
// many plain arguments it wants (-1: it checks its own) and what runs it.
struct Command {
  std::string_view name;
  void (*print_help)();
  bool takes_options;
  int positional;
  int (*run)(const Config& config, const Arguments& args);
};

const Command kCommands[] = {
    {"serve", printServeHelp, false, 0,
     [](const Config& config, const Arguments&) { return app::serve(config); }},
    {"migrate", [] { std::fputs(kMigrateHelp, stdout); }, false, 0,
     [](const Config& config, const Arguments&) { return runMigrate(config); }},
    {"backup", [] { std::fputs(kBackupHelp, stdout); }, false, 1,
     [](const Config& config, const Arguments& args) {
       return runBackup(config, args.positional[0]);
     }},
    {"status", [] { std::fputs(app::kStatusHelp, stdout); }, true, -1,
     [](const Config& config, const Arguments& args) {
       return app::runStatusCommand(config, args.positional, args.options);
     }},
    {"drain", [] { std::fputs(app::kDrainHelp, stdout); }, true, -1,
     [](const Config& config, const Arguments& args) {
       return app::runDrainCommand(config, args.positional, args.options);
     }},
    {"outbox", [] { std::fputs(app::kOutboxHelp, stdout); }, true, -1,
     [](const Config& config, const Arguments& args) {
       return app::runOutboxCommand(config, args.positional, args.options);
     }},
    {"review", [] { std::fputs(app::kReviewHelp, stdout); }, true, -1,
     [](const Config& config, const Arguments& args) {
       return app::runReviewCommand(config, args.positional, args.options);
     }},
};

const Command* findCommand(std::string_view name) {
  for (const auto& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

}  // namespace

int runCli(int argc, char** argv) {
  std::string error;
  auto args = parseArguments(argc, argv, error);
  if (!args) return usageError(error);
  if (args->command == "--version") {
    std::printf("outpost 0.1.0\n");
    return 0;
  }
  if (args->command.empty() || args->command == "help") {
    std::fputs(kMainHelp, args->command.empty() && !args->help ? stderr : stdout);
    return args->command.empty() && !args->help ? 2 : 0;
  }
  const Command* command = findCommand(args->command);
  if (command == nullptr) return usageError("unknown command '" + args->command + "'");
  if (args->help) {
    command->print_help();
    return 0;
  }
  if (!args->options.empty() && !command->takes_options) {
    return usageError(args->options.begin()->first +
                      " is an option of 'drain', 'outbox', 'review' and 'status' only");
  }
  if (command->positional >= 0 &&
      args->positional.size() != static_cast<std::size_t>(command->positional)) {
    return usageError(command->positional == 1
                          ? std::string(command->name) + " needs one destination FILE"
                          : "unexpected argument '" + args->positional[0] + "'");
  }
  auto config = loadConfigOrReport(*args);
  if (!config) return 2;
  return command->run(*config, *args);
}

}  // namespace outpost
