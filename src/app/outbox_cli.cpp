#include "app/outbox_cli.h"

#include <cstdio>
#include <optional>

#include "app/command_store.h"
#include "http/query.h"
#include "outbox/outbox_admin.h"
#include "store/store.h"

namespace outpost::app {
namespace {

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "outpost outbox: %s\n", message.c_str());
  return status;
}

Result<outbox::EventFilter> filterFrom(const std::map<std::string, std::string>& options) {
  outbox::EventFilter filter;
  if (auto status = options.find("--status"); status != options.end()) {
    if (!outbox::isEventStatus(status->second)) {
      return Error::invalidArgument("--status must be PENDING, SENT or FAILED");
    }
    filter.status = status->second;
  }
  if (auto limit = options.find("--limit"); limit != options.end()) {
    auto parsed = http::parseLimit(limit->second);
    if (!parsed) return Error::invalidArgument("--limit must be an integer from 1 to 500");
    filter.limit = *parsed;
  }
  return filter;
}

void printTable(const outbox::EventPage& page) {
  std::printf("%-36s  %-30s  %-30s  %-7s  %7s  %s\n", "ID", "TYPE", "ORDER", "STATUS", "RETRIES",
              "LAST ERROR");
  for (const auto& event : page.items) {
    std::printf("%-36s  %-30s  %-30s  %-7s  %7d  %s\n", event.id.c_str(), event.event_type.c_str(),
                event.aggregate_id.c_str(), event.status.c_str(), event.retry_count,
                event.last_error.value_or("").c_str());
  }
  std::printf("%zu event%s%s\n", page.items.size(), page.items.size() == 1 ? "" : "s",
              page.next ? " (more: raise --limit)" : "");
}

int list(outbox::OutboxAdmin& admin, const std::map<std::string, std::string>& options) {
  auto filter = filterFrom(options);
  if (!filter) return fail(filter.error().message, 2);
  auto page = admin.list(*filter);
  if (!page) return fail(page.error().message, 1);
  if (!options.contains("--json")) {
    printTable(*page);
    return 0;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& event : page->items) items.push_back(outbox::eventJson(event));
  std::printf("%s\n", items.dump(2).c_str());
  return 0;
}

// `retry --all-failed [--event-type T]`: the filter, or a usage error.
Result<outbox::FailedEventFilter> bulkFilterFrom(
    const std::map<std::string, std::string>& options) {
  auto type = options.find("--event-type");
  if (type == options.end()) return outbox::FailedEventFilter{};
  auto filter = outbox::parseFailedEventFilter({{"eventType", type->second}});
  if (!filter) return Error::invalidArgument("--event-type " + filter.error().fields[0].detail);
  return filter;
}

int retryAllFailed(outbox::OutboxAdmin& admin, const outbox::FailedEventFilter& filter) {
  auto requeued = admin.retryAllFailed(filter);
  if (!requeued) return fail(requeued.error().message, 1);
  std::printf("requeued %d event%s\n", *requeued, *requeued == 1 ? "" : "s");
  return 0;
}

// Which options an action takes: list its three, retry none, retry --all-failed its two.
std::optional<std::string> misplacedOption(const std::string& action,
                                           const std::map<std::string, std::string>& options) {
  const bool all_failed = options.contains("--all-failed");
  for (const auto& [name, value] : options) {
    const bool allowed = action == "list"
                             ? name == "--status" || name == "--limit" || name == "--json"
                             : all_failed && (name == "--all-failed" || name == "--event-type");
    if (allowed) continue;
    if (action == "list") return name + " is not an option of 'outbox list'";
    if (name == "--event-type") return "--event-type goes with 'outbox retry --all-failed'";
    return "retry takes no options but --all-failed [--event-type TYPE]";
  }
  return std::nullopt;
}

}  // namespace

int runOutboxCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options) {
  const std::string action = positional.empty() ? "" : positional[0];
  const bool all_failed = action == "retry" && options.contains("--all-failed");
  if (all_failed && positional.size() > 1) {
    return fail("give either EVENT_ID or --all-failed, not both", 2);
  }
  const std::size_t wanted = action == "retry" && !all_failed ? 2 : 1;
  if ((action != "list" && action != "retry") || positional.size() != wanted) {
    return fail(
        "use 'outbox list [--status S] [--limit N] [--json]', 'outbox retry EVENT_ID' or"
        " 'outbox retry --all-failed [--event-type TYPE]'",
        2);
  }
  if (auto misplaced = misplacedOption(action, options)) return fail(*misplaced, 2);
  std::optional<outbox::FailedEventFilter> bulk;
  if (all_failed) {
    auto filter = bulkFilterFrom(options);
    if (!filter) return fail(filter.error().message, 2);
    bulk = *filter;
  }
  // Listing only reads: it never creates or migrates the file.
  auto store = openCommandStore(config, action == "list");
  if (!store) return fail(store.error().message, 1);
  SystemClock clock;
  outbox::OutboxAdmin admin(**store, clock);
  if (action == "list") return list(admin, options);
  if (bulk) return retryAllFailed(admin, *bulk);
  auto retried = admin.retry(positional[1]);
  if (!retried) {
    return fail(retried.error().message, retried.error().kind == ErrorKind::kUnavailable ? 1 : 2);
  }
  std::printf("event %s is PENDING again\n", positional[1].c_str());
  return 0;
}

}  // namespace outpost::app
