#include "support/outbox_backlog.h"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "outbox/outbox.h"
#include "outpost/clock.h"
#include "store/store.h"

namespace outpost::testing {

std::vector<std::string> fillOutbox(const std::string& database, int orders, int events_per_order) {
  std::vector<std::string> ids;
  auto store = store::Store::open({database, 5000});
  if (!store) {
    ADD_FAILURE() << "cannot open " << database << ": " << store.error().message;
    return ids;
  }
  SystemClock clock;
  SystemRandom random;
  const std::string node = "backlog";
  constexpr int kOrdersPerWrite = 500;
  for (int first = 0; first < orders; first += kOrdersPerWrite) {
    std::vector<std::string> written_ids;
    auto written = (*store)->write([&](store::Connection& c) {
      written_ids.clear();
      outbox::EventContext context{node, clock.wallMillis(), random};
      for (int order = first; order < std::min(orders, first + kOrdersPerWrite); ++order) {
        const std::string aggregate = "ORD-BACKLOG-" + std::to_string(order);
        for (int event = 0; event < events_per_order; ++event) {
          written_ids.push_back(outbox::appendEvent(
              c, {"BACKLOG_EVENT", aggregate, {{"order", order}, {"sequence", event}}}, context));
        }
      }
      return okStatus();
    });
    if (!written) {
      ADD_FAILURE() << "cannot fill the outbox: " << written.error().message;
      break;
    }
    ids.insert(ids.end(), written_ids.begin(), written_ids.end());
  }
  (*store)->shutdown();
  return ids;
}

int countEvents(const std::string& database, const std::string& status) {
  try {
    SQLite::Database db(database, SQLite::OPEN_READONLY);
    SQLite::Statement query(db, status.empty()
                                    ? "SELECT COUNT(*) FROM outbox_events"
                                    : "SELECT COUNT(*) FROM outbox_events WHERE status = ?");
    if (!status.empty()) query.bind(1, status);
    query.executeStep();
    return query.getColumn(0).getInt();
  } catch (const std::exception&) {
    return -1;
  }
}

int countOrderEvents(const std::string& database, const std::string& order_id,
                     const std::string& type) {
  try {
    SQLite::Database db(database, SQLite::OPEN_READONLY);
    SQLite::Statement query(
        db, "SELECT COUNT(*) FROM outbox_events WHERE aggregate_id = ? AND event_type = ?");
    query.bind(1, order_id);
    query.bind(2, type);
    query.executeStep();
    return query.getColumn(0).getInt();
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace outpost::testing
