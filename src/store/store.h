// Store: the node's SQLite file. One writer thread commits every write waiting in its
// queue in one transaction (group commit), so a 201 still means "on disk" while many
// orders share one fsync. Reads use their own pooled connections and never wait behind
// the writer (WAL). WAL checkpoints run on a background thread, never inside a request.
//
// Thread-safe: write() and read() may be called from any number of threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "outpost/result.h"
#include "resilience/circuit_breaker.h"
#include "store/connection.h"
#include "store/errors.h"
#include "store/migrations.h"

namespace outpost::store {

struct StoreOptions {
  std::string path;
  std::int64_t busy_timeout_ms = 2000;
  // WAL pages after which the background checkpointer is woken.
  int checkpoint_after_pages = 1000;
  // Called on the writer thread after every commit (of one or more writes), before the
  // writers are answered, e.g. to wake the outbox relay. It must return quickly, must not
  // write, and must stay callable until shutdown() returns.
  std::function<void()> after_commit = nullptr;
  // Wall time (Clock::wallMillis) stamped on each migration open() applies.
  std::int64_t opened_at_millis = 0;
};

class Store {
 public:
  // A unit of work run by the writer inside the shared transaction (under its own
  // savepoint). Returning an error rolls back this work only; throwing an SQLite error
  // that means the store is unusable fails the whole batch.
  using WriteWork = std::function<Status(Connection&)>;

  // Opens the file, applies migrations and starts the writer and checkpointer threads.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  // For commands that only read: the file must exist and be at this binary's schema
  // version (kInvalidArgument saying to run 'outpost migrate' otherwise). Nothing is
  // created, migrated or written: write() fails with kInvalidArgument.
  static Result<std::unique_ptr<Store>> openReadOnly(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Every read and write goes through `breaker` (the `database` breaker): while it is open
  // they fail at once with kUnavailable, and only outages count as failures. The breaker
  // judges writes: a read that succeeds is not counted (a /health poller must not dilute
  // a full disk), unless it is the half-open trial. Set before the store is shared;
  // nullptr (the default) disables it.
  void setBreaker(resilience::CircuitBreaker* breaker) { breaker_ = breaker; }

  // Blocks until `work` is committed (or failed). Durable when it returns ok.
  Status write(WriteWork work);

  // Runs `work` on a read connection. `work(Connection&)` returns a T or a Result<T>.
  template <typename F>
  auto read(F&& work) {
    using Out = GuardResult<std::invoke_result_t<F&, Connection&>>;
    auto permit = admit();
    if (!permit) return Out(permit.error());
    auto connection = acquireReader();
    if (!connection) return Out(settle(*permit, connection.error()));
    auto result = guard([&] { return work(**connection); });
    releaseReader(std::move(*connection));
    if (!result) return Out(settle(*permit, result.error()));
    settleRead(*permit);
    return result;
  }

  // Whether the writer thread takes a ping off its queue within `limit`: it is alive and
  // not stuck in a commit. Touches no file and passes no breaker (the service watchdog
  // asks; a database that is down is not a dead writer). False for a read-only store.
  bool writerResponds(std::chrono::milliseconds limit);

  int schemaVersion() const { return schema_version_; }
  // What open() found and did: the versions, and the backup made before migrating.
  const MigrationReport& migration() const { return migration_; }
  const std::string& path() const { return options_.path; }

  // Stops accepting writes, commits what is queued, joins the threads. Idempotent.
  void shutdown();

 private:
  struct PendingWrite {
    WriteWork work;  // empty: a ping, answered when the writer takes it
    std::promise<Status> done;
  };

  // Without a writer connection the store is read-only and starts no threads.
  Store(StoreOptions options, std::unique_ptr<Connection> writer, int schema_version);

  // The breaker's permit for one call (an empty permit without a breaker).
  Result<resilience::Permit> admit();
  // Reports the call's outcome to the breaker; returns `error` for chaining.
  Error settle(const resilience::Permit& permit, const std::optional<Error>& error);
  // A read that succeeded: counted only as the half-open trial.
  void settleRead(const resilience::Permit& permit);

  void writerLoop();
  void commitBatch(std::vector<PendingWrite>& batch);
  void checkpointerLoop();
  static int onWalCommit(void* self, struct sqlite3*, const char*, int pages);

  Result<std::unique_ptr<Connection>> acquireReader();
  void releaseReader(std::unique_ptr<Connection> connection);

  StoreOptions options_;
  resilience::CircuitBreaker* breaker_ = nullptr;
  std::unique_ptr<Connection> writer_connection_;
  int schema_version_;
  MigrationReport migration_;

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<PendingWrite> queue_;
  bool stopping_ = false;

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_due_ = false;
  bool checkpointer_stopping_ = false;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  std::thread writer_thread_;
  std::thread checkpointer_thread_;
};

}  // namespace outpost::store
