#include <SQLiteCpp/Backup.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "app/doctor.h"
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
#include "store/file_probe.h"
#include "store/migrations.h"

namespace outpost {
namespace {

constexpr const char* kMainHelp =
    R"(outpost: a store-front edge node that takes orders and never loses them.

Usage:
  outpost serve   [--config FILE]          run the node (HTTP API on 127.0.0.1:8080 by default)
  outpost migrate [--dry-run] [--config FILE]
                                           back the file up, apply migrations and exit
  outpost backup FILE [--config FILE]      copy the database to FILE while the node may run
  outpost status [--json]                  the health figures, from the file (server down too)
  outpost doctor [--json]                  check the box before opening (changes nothing)
  outpost outbox list [--status S] [--limit N] [--json]
                                           show outbox events (newest first), from the file
  outpost outbox retry EVENT_ID            put a FAILED event back to PENDING
  outpost outbox retry --all-failed [--event-type T]
                                           put every FAILED event (of type T) back to PENDING
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

constexpr const char* kMigrateHelp = R"(Usage: outpost migrate [--dry-run] [--config FILE]

Applies the schema migrations this binary carries to the configured database (serve
does the same at start-up) and prints the schema version. A file that already holds
data is first copied to DATABASE.pre-vN.bak (N: the version it was at) with SQLite's
online backup; all migrations then apply in one transaction, so a failure leaves the
file as it was. --dry-run lists the migrations it would apply and changes nothing (it
does not even create a missing file).
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
const std::set<std::string> kValueOptions = {"--status", "--limit",      "--action",
                                             "--note",   "--timeout-ms", "--event-type"};
const std::set<std::string> kFlags = {"--json", "--dry-run", "--resume", "--all-failed"};

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

Result<Config> loadConfigOf(const Arguments& args) {
  return loadConfig({args.config_file, processEnvironment(), hostName()});
}

std::optional<Config> loadConfigOrReport(const Arguments& args) {
  auto config = loadConfigOf(args);
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
  if (report->backup_path) {
    std::printf("backed up %s to %s before migrating it\n", config.database.c_str(),
                report->backup_path->c_str());
  }
  std::printf("%s: schema version %d (was %d, applied %zu migration%s)\n", config.database.c_str(),
              report->to_version, report->from_version, report->applied.size(),
              report->applied.size() == 1 ? "" : "s");
  return 0;
}

void printPlan(const store::MigrationPlan& plan) {
  for (const auto& migration : plan.pending) {
    std::printf("  %03d %s\n", migration.version, migration.name);
  }
  std::printf("dry run: nothing was changed\n");
}

// Reads the file's version without creating anything, not even a missing file.
int runMigrateDryRun(const Config& config) {
  const int latest = store::latestSchemaVersion(store::embeddedMigrations());
  const bool exists = access(config.database.c_str(), F_OK) == 0;
  auto version = exists ? store::schemaVersionOfFile(config.database) : Result<int>(0);
  auto plan = version
                  ? store::planMigrations(*version, config.database, store::embeddedMigrations())
                  : Result<store::MigrationPlan>(version.error());
  if (!plan) {
    std::fprintf(stderr, "outpost: cannot plan the migration of %s: %s\n", config.database.c_str(),
                 plan.error().message.c_str());
    return 1;
  }
  if (!exists) {
    std::printf("%s does not exist: migrate would create it at schema version %d, applying:\n",
                config.database.c_str(), latest);
  } else if (plan->pending.empty()) {
    std::printf("%s: schema version %d, up to date: nothing to apply\n", config.database.c_str(),
                plan->from_version);
  } else {
    std::printf("%s: schema version %d; migrate would %s%sapply, up to version %d:\n",
                config.database.c_str(), plan->from_version,
                plan->backup_path ? ("back it up to " + *plan->backup_path).c_str() : "",
                plan->backup_path ? ", then " : "", latest);
  }
  printPlan(*plan);
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

// Every command: its name, its --help, the options it takes beyond --config, how many
// plain arguments it wants (-1: it checks its own) and what runs it (nullptr: doctor,
// which is given the configuration as loaded, since it reports a bad one as a check).
struct Command {
  std::string_view name;
  void (*print_help)();
  std::vector<std::string_view> options;
  int positional;
  int (*run)(const Config& config, const Arguments& args);
};

const Command kCommands[] = {
    {"serve",
     printServeHelp,
     {},
     0,
     [](const Config& config, const Arguments&) { return app::serve(config); }},
    {"migrate",
     [] { std::fputs(kMigrateHelp, stdout); },
     {"--dry-run"},
     0,
     [](const Config& config, const Arguments& args) {
       return args.options.contains("--dry-run") ? runMigrateDryRun(config) : runMigrate(config);
     }},
    {"backup",
     [] { std::fputs(kBackupHelp, stdout); },
     {},
     1,
     [](const Config& config, const Arguments& args) {
       return runBackup(config, args.positional[0]);
     }},
    {"status",
     [] { std::fputs(app::kStatusHelp, stdout); },
     {"--json"},
     -1,
     [](const Config& config, const Arguments& args) {
       return app::runStatusCommand(config, args.positional, args.options);
     }},
    {"drain",
     [] { std::fputs(app::kDrainHelp, stdout); },
     {"--timeout-ms", "--resume"},
     0,
     [](const Config& config, const Arguments& args) {
       return app::runDrainCommand(config, args.options);
     }},
    {"outbox",
     [] { std::fputs(app::kOutboxHelp, stdout); },
     {"--status", "--limit", "--json", "--all-failed", "--event-type"},
     -1,
     [](const Config& config, const Arguments& args) {
       return app::runOutboxCommand(config, args.positional, args.options);
     }},
    {"review",
     [] { std::fputs(app::kReviewHelp, stdout); },
     {"--limit", "--json", "--action", "--note"},
     -1,
     [](const Config& config, const Arguments& args) {
       return app::runReviewCommand(config, args.positional, args.options);
     }},
    {"doctor", [] { std::fputs(app::kDoctorHelp, stdout); }, {"--json"}, 0, nullptr},
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
    std::printf("outpost %s\n", OUTPOST_VERSION);
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
  for (const auto& [option, value] : args->options) {
    if (std::find(command->options.begin(), command->options.end(), option) ==
        command->options.end()) {
      return usageError(option + " is not an option of '" + std::string(command->name) + "'");
    }
  }
  if (command->positional >= 0 &&
      args->positional.size() != static_cast<std::size_t>(command->positional)) {
    return usageError(command->positional == 1
                          ? std::string(command->name) + " needs one destination FILE"
                          : "unexpected argument '" + args->positional[0] + "'");
  }
  if (command->run == nullptr) {
    return app::runDoctorCommand(loadConfigOf(*args), args->options);
  }
  auto config = loadConfigOrReport(*args);
  if (!config) return 2;
  return command->run(*config, *args);
}

}  // namespace outpost
