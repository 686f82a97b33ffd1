#include "store/store.h"

#include <sqlite3.h>

#include <utility>

#include "store/migrations.h"

namespace outpost::store {
namespace {

// A batch larger than this waits for the next commit; it bounds how long the first
// writer of a burst waits for the last.
constexpr std::size_t kMaxBatch = 512;

ConnectionOptions writerOptions(const StoreOptions& options) {
  return {options.path, options.busy_timeout_ms, false, true, true};
}

ConnectionOptions readerOptions(const StoreOptions& options) {
  return {options.path, options.busy_timeout_ms, true, false, false};
}

ConnectionOptions checkpointerOptions(const StoreOptions& options) {
  return {options.path, options.busy_timeout_ms, false, false, false};
}

// An unusable store fails the whole batch (SQLite may already have rolled it back); any
// other failure is one write's own and is undone by its savepoint.
bool isOutage(const Error& error) { return error.kind == ErrorKind::kUnavailable; }

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  auto writer = openConnection(writerOptions(options));
  if (!writer) return writer.error();
  auto report = migrate(**writer, embeddedMigrations(), options.opened_at_millis);
  if (!report) return report.error();
  std::unique_ptr<Store> store(new Store(options, std::move(*writer), report->to_version));
  store->migration_ = std::move(*report);
  return store;
}

Result<std::unique_ptr<Store>> Store::openReadOnly(const StoreOptions& options) {
  auto reader = openConnection(readerOptions(options));
  if (!reader) return reader.error();
  auto version = currentSchemaVersion(**reader);
  if (!version) return version.error();
  if (auto mismatch = schemaMismatch(*version, latestSchemaVersion(embeddedMigrations()))) {
    return Error::invalidArgument(*mismatch);
  }
  std::unique_ptr<Store> store(new Store(options, nullptr, *version));
  store->releaseReader(std::move(*reader));
  return store;
}

Store::Store(StoreOptions options, std::unique_ptr<Connection> writer, int schema_version)
    : options_(std::move(options)),
      writer_connection_(std::move(writer)),
      schema_version_(schema_version) {
  if (writer_connection_ == nullptr) return;
  sqlite3_wal_hook(writer_connection_->db().getHandle(), &Store::onWalCommit, this);
  writer_thread_ = std::thread([this] { writerLoop(); });
  checkpointer_thread_ = std::thread([this] { checkpointerLoop(); });
}

Store::~Store() { shutdown(); }

void Store::shutdown() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpointer_stopping_ = true;
  }
  checkpoint_wanted_.notify_all();
  if (checkpointer_thread_.joinable()) checkpointer_thread_.join();
}

Result<resilience::Permit> Store::admit() {
  if (breaker_ == nullptr) return resilience::Permit{};
  auto permit = breaker_->tryAcquire();
  if (!permit) return Error::unavailable("the database is unavailable (circuit breaker open)");
  return *permit;
}

Error Store::settle(const resilience::Permit& permit, const std::optional<Error>& error) {
  const bool outage = error && error->kind == ErrorKind::kUnavailable;
  if (breaker_ != nullptr) {
    breaker_->record(permit,
                     outage ? resilience::CallResult::kFailure : resilience::CallResult::kSuccess);
  }
  return error.value_or(Error());
}

void Store::settleRead(const resilience::Permit& permit) {
  if (breaker_ != nullptr && permit.trial) {
    breaker_->record(permit, resilience::CallResult::kSuccess);
  }
}

Status Store::write(WriteWork work) {
  if (writer_connection_ == nullptr) {
    return Error::invalidArgument("the database was opened read-only");
  }
  auto permit = admit();
  if (!permit) return permit.error();
  std::future<Status> committed;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) {
      settle(*permit, std::nullopt);  // not the database's fault
      return Error::unavailable("the node is shutting down");
    }
    queue_.push_back(PendingWrite{std::move(work), {}});
    committed = queue_.back().done.get_future();
  }
  queue_changed_.notify_one();
  Status status = committed.get();
  if (!status) return settle(*permit, status.error());
  settle(*permit, std::nullopt);
  return status;
}

bool Store::writerResponds(std::chrono::milliseconds limit) {
  if (writer_connection_ == nullptr) return false;
  std::future<Status> answered;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return false;
    queue_.push_back(PendingWrite{nullptr, {}});
    answered = queue_.back().done.get_future();
  }
  queue_changed_.notify_one();
  return answered.wait_for(limit) == std::future_status::ready;
}

void Store::writerLoop() {
  std::vector<PendingWrite> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        PendingWrite& next = queue_.front();
        if (next.work) {
          batch.push_back(std::move(next));
        } else {
          next.done.set_value(okStatus());
        }
        queue_.pop_front();
      }
    }
    if (!batch.empty()) commitBatch(batch);
    batch.clear();
  }
}

void Store::commitBatch(std::vector<PendingWrite>& batch) {
  Connection& db = *writer_connection_;
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  auto failAll = [&](const Error& error) {
    // Best effort: after some failures SQLite has already rolled back.
    (void)guard([&] {
      db.exec("ROLLBACK");
      return true;
    });
    for (auto& pending : batch) pending.done.set_value(error);
  };

  auto begun = guard([&] {
    db.exec("BEGIN IMMEDIATE");
    return true;
  });
  if (!begun) return failAll(begun.error());
  for (auto& pending : batch) {
    auto opened = guard([&] {
      db.exec("SAVEPOINT work");
      return true;
    });
    if (!opened) return failAll(opened.error());
    // The work may fail by returning an error or by throwing: either way its writes go.
    Status outcome = guard([&] { return pending.work(db); });
    if (!outcome && isOutage(outcome.error())) return failAll(outcome.error());
    auto closed = guard([&] {
      if (!outcome) db.exec("ROLLBACK TO work");
      db.exec("RELEASE work");
      return true;
    });
    if (!closed) return failAll(closed.error());
    outcomes.push_back(std::move(outcome));
  }
  auto committed = guard([&] {
    db.exec("COMMIT");
    return true;
  });
  if (!committed) return failAll(committed.error());
  if (options_.after_commit) options_.after_commit();
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(outcomes[i]));
}

int Store::onWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<Store*>(self);
  if (pages >= store->options_.checkpoint_after_pages) {
    {
      std::lock_guard lock(store->checkpoint_mutex_);
      store->checkpoint_due_ = true;
    }
    store->checkpoint_wanted_.notify_one();
  }
  return SQLITE_OK;
}

void Store::checkpointerLoop() {
  auto connection = openConnection(checkpointerOptions(options_));
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_wanted_.wait(lock, [this] { return checkpointer_stopping_ || checkpoint_due_; });
      if (checkpointer_stopping_) return;
      checkpoint_due_ = false;
    }
    if (!connection) connection = openConnection(checkpointerOptions(options_));
    if (!connection) continue;
    // PASSIVE never takes the write lock: the writer keeps committing meanwhile. The WAL
    // file restarts from its beginning at the next commit after a complete checkpoint.
    sqlite3_wal_checkpoint_v2((*connection)->db().getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                              nullptr, nullptr);
  }
}

Result<std::unique_ptr<Connection>> Store::acquireReader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return connection;
    }
  }
  return openConnection(readerOptions(options_));
}

void Store::releaseReader(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(readers_mutex_);
  idle_readers_.push_back(std::move(connection));
}

}  // namespace outpost::store
