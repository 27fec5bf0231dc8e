#include "redis_pool.hpp"

namespace strata::redis {

Pool::Pool(Settings settings, sdk::Logger log)
    : settings_(std::move(settings)),
      locator_(settings_.sentinel_mode() ? std::make_unique<PrimaryLocator>(settings_) : nullptr),
      log_(std::move(log)) {}

Pool::Pool(Settings settings, sdk::Logger log, Endpoint node)
    : settings_(std::move(settings)),
      node_(std::move(node)),
      breaker_(std::make_unique<Breaker>(settings_.breaker_failures, settings_.breaker_open)),
      log_(std::move(log)) {}

sdk::Result<std::unique_ptr<Connection>> Pool::acquire(Clock::time_point deadline) {
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        if (connection->idle_and_alive()) return connection;
        --open_;  // closed by the server while idle: drop it
      }
      if (open_ < settings_.pool_size) break;
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= settings_.pool_size)
        return sdk::fail(sdk::ErrorCode::timeout,
                         "all " + std::to_string(settings_.pool_size) + " connections to Redis at " + where() +
                             " stayed busy for " +
                             std::to_string(settings_.command_timeout.count()) + " ms");
    }
    ++open_;
  }
  auto connection = locator_ ? locator_->connect()
                   : node_  ? Connection::open(settings_, node_->host, node_->port)
                            : Connection::open(settings_);
  if (!connection) {
    discard();
    if (breaker_) breaker_->failed();
  }
  return connection;
}

sdk::Result<std::unique_ptr<Connection>> Pool::checkout(Clock::time_point deadline) {
  if (breaker_ && !breaker_->allow()) return sdk::fail(breaker_->refusal(where()));
  return acquire(deadline);
}

void Pool::checkin(std::unique_ptr<Connection> connection) {
  if (!connection->broken()) {
    if (breaker_) breaker_->succeeded();
    release(std::move(connection));
    return;
  }
  connection.reset();
  discard();
  if (breaker_) breaker_->failed();
  if (locator_) locator_->invalidate();  // perhaps a failover: ask the sentinels again
}

void Pool::release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

void Pool::discard() {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_one();
}

bool wait_to_retry(const Settings& settings, const sdk::Logger& log, int attempt, std::chrono::steady_clock::time_point deadline,
                   const sdk::Error& why) {
  if (attempt >= settings.max_attempts) return false;
  auto delay = retry_delay(attempt);
  if (std::chrono::steady_clock::now() + delay >= deadline) return false;
  log(sdk::LogLevel::warning, why.message + "; retrying in " + std::to_string(delay.count()) + " ms (attempt " +
                                  std::to_string(attempt + 1) + " of " + std::to_string(settings.max_attempts) + ")");
  std::this_thread::sleep_for(delay);
  return true;
}

}  // namespace strata::redis
