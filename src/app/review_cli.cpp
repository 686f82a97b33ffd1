#include "app/review_cli.h"

#include <cstdio>

#include "app/command_store.h"
#include "common/text.h"
#include "http/query.h"
#include "review/review_service.h"
#include "store/store.h"

namespace outpost::app {
namespace {

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "outpost review: %s\n", message.c_str());
  return status;
}

int exitStatusFor(const Error& error) { return error.kind == ErrorKind::kUnavailable ? 1 : 2; }

int list(review::ReviewService& reviews, const std::map<std::string, std::string>& options) {
  store::ReviewFilter filter;
  if (auto limit = options.find("--limit"); limit != options.end()) {
    auto parsed = http::parseLimit(limit->second);
    if (!parsed) return fail("--limit must be an integer from 1 to 500", 2);
    filter.limit = *parsed;
  }
  auto page = reviews.list(filter);
  if (!page) return fail(page.error().message, 1);
  if (options.contains("--json")) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : page->items) items.push_back(review::reviewJson(item));
    std::printf("%s\n", items.dump(2).c_str());
    return 0;
  }
  std::printf("%-30s  %-15s  %-24s  %s\n", "ORDER", "KIND", "SINCE", "REASON");
  for (const auto& item : page->items) {
    std::printf("%-30s  %-15s  %-24s  %s\n", item.order_id.c_str(), item.kind.c_str(),
                formatTimestamp(item.created_at).c_str(), item.reason.c_str());
  }
  std::printf("%zu open item%s%s\n", page->items.size(), page->items.size() == 1 ? "" : "s",
              page->next ? " (more: raise --limit)" : "");
  return 0;
}

int resolve(review::ReviewService& reviews, const std::string& order_id,
            const std::map<std::string, std::string>& options) {
  nlohmann::json body = nlohmann::json::object();
  if (auto action = options.find("--action"); action != options.end()) {
    body["action"] = action->second;
  }
  if (auto note = options.find("--note"); note != options.end()) body["note"] = note->second;
  auto resolution = review::parseResolution(body);
  if (!resolution)
    return fail("--action must be approve or cancel; " + resolution.error().message, 2);
  auto resolved = reviews.resolve(order_id, *resolution);
  if (!resolved) return fail(resolved.error().message, exitStatusFor(resolved.error()));
  std::printf("order %s: review resolved (%s); status %s%s\n", order_id.c_str(),
              options.at("--action").c_str(), resolved->order.status.c_str(),
              resolved->accepted ? ", cancel under way" : "");
  return 0;
}

}  // namespace

int runReviewCommand(const Config& config, const std::vector<std::string>& positional,
                     const std::map<std::string, std::string>& options) {
  const std::string action = positional.empty() ? "" : positional[0];
  const std::size_t wanted = action == "resolve" ? 2 : 1;
  if ((action != "list" && action != "resolve") || positional.size() != wanted) {
    return fail(
        "use 'review list [--limit N] [--json]' or 'review resolve ORDER_ID --action "
        "approve|cancel [--note TEXT]'",
        2);
  }
  for (const auto& [name, value] : options) {
    const bool allowed = action == "list" ? (name == "--limit" || name == "--json")
                                          : (name == "--action" || name == "--note");
    if (!allowed) return fail(name + " is not an option of 'review " + action + "'", 2);
  }
  if (action == "resolve" && !options.contains("--action")) {
    return fail("resolve needs --action approve or --action cancel", 2);
  }
  // Listing only reads: it never creates or migrates the file.
  auto store = openCommandStore(config, action == "list");
  if (!store) return fail(store.error().message, 1);
  SystemClock clock;
  SystemRandom random;
  observability::Logger log(clock);
  observability::Metrics metrics;
  const node::Context context{**store, clock, random, log, metrics, config.node_id};
  // No hooks: a running node's compensation and delivery jobs pick the work up.
  review::ReviewService reviews(context, {});
  if (action == "list") return list(reviews, options);
  return resolve(reviews, positional[1], options);
}

}  // namespace outpost::app
