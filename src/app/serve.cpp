#include "app/serve.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "http/server.h"
#include "observability/logger.h"
#include "orders/order_service.h"
#include "store/store.h"

namespace outpost::app {
namespace {

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
      {"delivery_service", config.delivery_service.url ? "configured" : "not configured"},
      {"product_service", config.product_service.url ? "configured" : "not configured"}};
}

}  // namespace

int serve(const Config& config) {
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // signal thread below ever sees these signals.
  const sigset_t signals = shutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  SystemRandom random;
  observability::Logger log(clock);

  auto store = store::Store::open({config.database, config.database_busy_timeout_ms});
  if (!store) {
    log.error("cannot open the database",
              {{"database", config.database}, {"error", store.error().message}});
    return 1;
  }
  orders::OrderService orders(**store, clock, random, config.node_id);
  http::HttpServer server({config, orders, **store, log});
  auto port = server.bind();
  if (!port) {
    log.error("cannot listen", {{"error", port.error().message}});
    return 1;
  }

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
  (*store)->shutdown();
  log.info("stopped");
  return 0;
}

}  // namespace outpost::app
