#include "app/serve.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "alerts/alert_checker.h"
#include "alerts/alert_webhook.h"
#include "clients/delivery_client.h"
#include "clients/event_destinations.h"
#include "clients/http_client.h"
#include "clients/product_client.h"
#include "http/server.h"
#include "jobs/job_runner.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "observability/reliability.h"
#include "orders/availability.h"
#include "orders/availability_recheck.h"
#include "orders/order_service.h"
#include "outbox/outbox_admin.h"
#include "outbox/relay.h"
#include "outbox/retention.h"
#include "reconciliation/reconciler.h"
#include "resilience/circuit_breaker.h"
#include "review/review_service.h"
#include "saga/compensator.h"
#include "saga/delivery_initiator.h"
#include "saga/saga_recovery.h"
#include "store/breaker_records.h"
#include "store/store.h"

namespace outpost::app {
namespace {

constexpr const char* kDeliveryJob = "delivery";
constexpr const char* kRecheckJob = "availability-recheck";
constexpr const char* kRetentionJob = "retention";
constexpr const char* kRelayJob = "outbox-relay";
constexpr const char* kCompensationJob = "compensation";
constexpr const char* kReconciliationJob = "reconciliation";
constexpr const char* kAlertsJob = "alerts";
constexpr const char* kAlertWebhookJob = "alert-webhook";

sigset_t shutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // sent to ourselves when serving ends without a signal
  return set;
}

nlohmann::json startupFields(const Config& config, int port) {
  const bool events_configured = config.events.sns_topic_arn || config.events.sqs_queue_url;
  return {
      {"listen", config.listen_host + ":" + std::to_string(port)},
      {"database", config.database},
      {"node_id", config.node_id},
      {"events", events_configured ? "configured" : "not configured: events wait in the outbox"},
      {"aws_credentials",
       config.events.credentials ? "from the environment" : "none: SNS/SQS requests go unsigned"},
      {"delivery_service", config.delivery_service.url ? "configured" : "not configured"},
      {"product_service", config.product_service.url ? "configured" : "not configured"},
      {"alerts_webhook", config.alerts.webhook_url ? "configured" : "not configured"}};
}

resilience::BreakerOptions breakerOptions(const std::string& name, const BreakerConfig& c) {
  return {name,
          c.error_threshold_percentage,
          c.reset_timeout_ms,
          c.volume_threshold,
          c.consecutive_failures,
          c.rolling_window_ms,
          c.timeout_ms,
          10};
}

using Breakers = std::map<std::string, std::unique_ptr<resilience::CircuitBreaker>>;

Breakers makeBreakers(const Config& config, const Clock& clock, store::Store& store) {
  auto restored = store.read([](store::Connection& c) { return store::loadBreakerStates(c); });
  Breakers breakers;
  for (const auto& [name, settings] : config.breakers) {
    std::optional<resilience::PersistedBreaker> state;
    if (restored && restored->contains(name)) state = restored->at(name);
    breakers[name] =
        std::make_unique<resilience::CircuitBreaker>(breakerOptions(name, settings), clock, state);
  }
  return breakers;
}

using Destinations = std::vector<std::unique_ptr<clients::EventDestination>>;

// The configured SNS topic and/or SQS queue; none: events wait in the outbox.
Destinations makeEventDestinations(const Config& config, clients::HttpClient& http,
                                   std::function<bool()> stopping) {
  const clients::AwsTarget target{config.events.region, config.events.endpoint_url,
                                  config.events.credentials,
                                  config.breakers.at("events").timeout_ms, std::move(stopping)};
  Destinations destinations;
  if (config.events.sns_topic_arn) {
    destinations.push_back(
        std::make_unique<clients::SnsTopic>(http, target, *config.events.sns_topic_arn));
  }
  if (config.events.sqs_queue_url) {
    destinations.push_back(
        std::make_unique<clients::SqsQueue>(http, target, *config.events.sqs_queue_url));
  }
  return destinations;
}

std::vector<clients::EventDestination*> pointers(const Destinations& destinations) {
  std::vector<clients::EventDestination*> raw;
  for (const auto& destination : destinations) raw.push_back(destination.get());
  return raw;
}

void resumeSagas(store::Store& store, const Clock& clock, observability::Logger& log) {
  auto resumed = saga::resumeInterruptedSagas(store, clock.wallMillis());
  if (!resumed) {
    log.error("cannot resume interrupted sagas", {{"error", resumed.error().message}});
    return;
  }
  if (resumed->resumed > 0 || resumed->compensating > 0) {
    log.info("resuming interrupted sagas", {{"awaitingDelivery", resumed->resumed},
                                            {"compensating", resumed->compensating},
                                            {"compensationJobsRecreated", resumed->repaired}});
  }
}

}  // namespace

int serve(const Config& config) {
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // signal thread below ever sees these signals.
  const sigset_t signals = shutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file-size limit must make writes fail (and the database answer 503), not kill us.
  signal(SIGXFSZ, SIG_IGN);

  SystemClock clock;
  SystemRandom random;
  observability::Logger log(clock);

  const bool events_configured = config.events.sns_topic_arn || config.events.sqs_queue_url;
  // Before the store: its writer thread wakes the runner until the store has shut down.
  observability::Metrics metrics;
  jobs::JobRunner runner(clock, log, &metrics);
  store::StoreOptions store_options{config.database, config.database_busy_timeout_ms};
  store_options.opened_at_millis = clock.wallMillis();
  if (events_configured) {
    // Any commit may have added events: the relay looks at once (SPEC §4.3).
    store_options.after_commit = [&runner] { runner.wake(kRelayJob); };
  }
  auto store = store::Store::open(store_options);
  if (!store) {
    log.error("cannot open the database",
              {{"database", config.database}, {"error", store.error().message}});
    return 1;
  }
  Breakers breakers = makeBreakers(config, clock, **store);
  (*store)->setBreaker(breakers.at("database").get());

  clients::CurlHttpClient http;
  std::optional<clients::DeliveryClient> delivery_client;
  if (config.delivery_service.url) {
    delivery_client.emplace(http, *config.delivery_service.url, config.delivery_service.timeout_ms);
  }
  std::optional<clients::ProductClient> product_client;
  if (config.product_service.url) {
    product_client.emplace(http, *config.product_service.url, config.product_service.timeout_ms);
  }

  auto& delivery_breaker = *breakers.at("delivery-service");
  saga::OrderCalls order_calls;  // one delivery call per order at a time
  saga::DeliveryInitiator delivery({**store, clock, random, delivery_breaker,
                                    delivery_client ? &*delivery_client : nullptr,
                                    config.delivery_service.retry, config.node_id, log, order_calls,
                                    [&] { runner.wake(kDeliveryJob); }, &metrics});
  saga::Compensator compensator({**store, clock, random, delivery_breaker,
                                 delivery_client ? &*delivery_client : nullptr,
                                 config.delivery_service.retry, config.node_id, log, order_calls,
                                 clock.wallMillis(), [&] { runner.wake(kCompensationJob); }});
  review::ReviewService reviews(**store, clock, random, config.node_id,
                                {[&](const std::string& id) { compensator.attemptNow(id); },
                                 [&] { runner.wake(kDeliveryJob); }});
  orders::OrderService orders(**store, clock, random, config.node_id);
  std::optional<orders::AvailabilityChecker> availability;
  std::optional<orders::AvailabilityRechecker> recheck;
  if (product_client) {
    availability.emplace(*product_client, *breakers.at("product-service"), log);
    recheck.emplace(orders::RecheckDependencies{
        **store, clock, random, *product_client, *breakers.at("product-service"),
        config.product_service.recheck_interval_ms, config.node_id, log});
  }
  orders.setAvailability(
      availability ? &*availability : nullptr,
      {config.checkout.reject_unavailable, config.product_service.recheck_interval_ms,
       [&runner] { runner.wake(kRecheckJob); }});
  if (delivery_client) {
    // The attempt takes at most the delivery timeout, and a second for its writes.
    orders.setAfterCommit([&](const std::string& id) { return delivery.attemptAfterCommit(id); },
                          config.delivery_service.timeout_ms + 1000);
  }

  // What the node does when a breaker closes again: its dependency is back, so the work
  // waiting on it goes now instead of waiting out its backoff (SPEC §4.1 fix).
  const std::map<std::string, std::function<void()>> on_recovery = {
      {"delivery-service",
       [&] {
         delivery.bringRetriesForward();
         compensator.bringRetriesForward();
         runner.wake(kDeliveryJob);
         runner.wake(kCompensationJob);
       }},
      {"product-service",
       [&] {
         if (recheck) recheck->bringRetriesForward();
         runner.wake(kRecheckJob);
       }},
      {"events", [&] { runner.wake(kRelayJob); }},
  };
  for (auto& [name, breaker] : breakers) {
    breaker->setListener([&, name = name](const resilience::BreakerTransition& t) {
      metrics.breakerTransition(t.name, resilience::toString(t.to));
      log.warn("circuit breaker " + std::string(resilience::toString(t.to)),
               {{"breaker", t.name}, {"from", resilience::toString(t.from)}, {"reason", t.reason}});
      // The database breaker's own state cannot be written while the database is down.
      if (name != "database") {
        (void)(*store)->write([&](store::Connection& c) {
          store::saveBreakerTransition(c, t);
          return okStatus();
        });
      }
      auto reaction = on_recovery.find(name);
      if (t.to == resilience::BreakerState::kClosed && reaction != on_recovery.end()) {
        reaction->second();
      }
    });
  }

  const auto stop_requested = [&runner] { return runner.stopRequested(); };
  runner.add(kDeliveryJob, delivery);
  runner.add(kCompensationJob, compensator);
  std::optional<reconciliation::Reconciler> reconciler;
  if (delivery_client) {
    reconciler.emplace(reconciliation::ReconcilerDependencies{
        **store, clock, random, delivery_breaker, *delivery_client,
        config.reconciliation.interval_ms, config.reconciliation.stale_after_ms, config.node_id,
        log});
    runner.add(kReconciliationJob, *reconciler);
  }
  if (recheck) runner.add(kRecheckJob, *recheck);

  outbox::OutboxAdmin outbox_admin(**store, clock);
  outbox::Retention retention(**store, clock, config.events.retention_ms, log);
  runner.add(kRetentionJob, retention);

  const Destinations destinations = makeEventDestinations(config, http, stop_requested);
  if (events_configured && !config.events.credentials && !config.events.endpoint_url) {
    log.warn(
        "events go to AWS unsigned: AWS will reject them until AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY are set",
        {{"region", config.events.region}});
  }
  std::optional<outbox::OutboxRelay> relay;
  if (!destinations.empty()) {
    relay.emplace(outbox::RelayDependencies{
        **store,
        clock,
        random,
        *breakers.at("events"),
        pointers(destinations),
        {config.events.poll_interval_ms, config.events.batch_size, config.events.max_retries},
        log,
        &metrics});
    runner.add(kRelayJob, *relay);
  }

  resumeSagas(**store, clock, log);
  const auto gather_figures = [&] {
    observability::FigureInputs inputs;
    // The read first: it may be the database breaker's trial, which closes it, and the
    // states must say so rather than HALF_OPEN beside an available database.
    inputs.stored =
        (*store)->read([](store::Connection& c) { return observability::readStoredFigures(c); });
    for (const auto& [name, breaker] : breakers) {
      inputs.breaker_states[name] = resilience::toString(breaker->state());
    }
    const auto stored_status =
        inputs.stored ? inputs.stored->last_reconciliation_status : std::nullopt;
    inputs.reconciliation_status =
        reconciler ? reconciler->lastStatus(stored_status) : observability::kHealthy;
    return observability::assembleFigures(config, inputs);
  };
  alerts::AlertChecker alert_checker(
      {**store,
       clock,
       random,
       {config.alerts.outbox_backlog, config.alerts.manual_review_backlog},
       config.alerts.check_interval_ms,
       config.node_id,
       config.alerts.webhook_url.has_value(),
       log,
       gather_figures,
       [&] { runner.wake(kAlertWebhookJob); }});
  runner.add(kAlertsJob, alert_checker);
  std::optional<alerts::AlertWebhook> alert_webhook;
  if (config.alerts.webhook_url) {
    alert_webhook.emplace(alerts::AlertWebhookDependencies{**store, clock, random, http,
                                                           *config.alerts.webhook_url, log});
    runner.add(kAlertWebhookJob, *alert_webhook);
  }
  const auto reliability = [&] {
    auto figures = gather_figures();
    figures.alerts = alert_checker.active();
    return figures;
  };
  http::HttpServer server({config, orders, outbox_admin, compensator, reviews, **store, log,
                           reliability, metrics, clock});
  auto port = server.bind();
  if (!port) {
    log.error("cannot listen", {{"error", port.error().message}});
    return 1;
  }
  runner.start();

  std::atomic<bool> serving_ended = false;
  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    if (!serving_ended) log.info("shutting down", {{"signal", strsignal(received)}});
    server.stop();
  });

  log.info("outpost is taking orders", startupFields(config, *port));
  server.serve();
  serving_ended = true;
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  runner.stop();
  (*store)->shutdown();
  log.info("stopped");
  return 0;
}

}  // namespace outpost::app
