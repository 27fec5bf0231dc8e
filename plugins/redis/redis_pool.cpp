#include "redis_pool.hpp"

#include "redis_auto_pipeline.hpp"

namespace strata::redis {

Pool::Pool(Settings settings, sdk::Logger log)
    : settings_(std::move(settings)),
      locator_(settings_.sentinel_mode() ? std::make_unique<PrimaryLocator>(settings_) : nullptr),
      pipeline_(make_pipeline(settings_)),
      log_(std::move(log)) {}

Pool::Pool(Settings settings, sdk::Logger log, Endpoint node)
    : settings_(std::move(settings)),
      node_(std::move(node)),
      breaker_(std::make_unique<Breaker>(settings_.breaker_failures, settings_.breaker_open)),
      pipeline_(make_pipeline(settings_)),
      log_(std::move(log)) {}

std::unique_ptr<AutoPipeline> Pool::make_pipeline(const Settings& settings) {
  return settings.auto_pipeline ? std::make_unique<AutoPipeline>(auto_pipeline_max_batch) : nullptr;
}

Pool::~Pool() = default;

sdk::Result<Reply> Pool::run_command(Repeatable repeatable, const Command& command) {
  return retrying<Reply>(repeatable, [&](Clock::time_point deadline) { return try_command(command, deadline); });
}

Attempt<Reply> Pool::try_command(const Command& command, Clock::time_point deadline) {
  if (!pipeline_) return try_once<Reply>([&](Connection& c) { return c.run(command); }, deadline);
  return pipeline_->try_once(command, [&](std::span<const Command> batch) { return try_each(batch, deadline); });
}

std::vector<Attempt<Reply>> Pool::try_each(std::span<const Command> commands, Clock::time_point deadline) {
  std::vector<Attempt<Reply>> out;
  out.reserve(commands.size());
  auto all_failed = [&](const sdk::Error& error, bool refused) {
    for (std::size_t i = 0; i < commands.size(); ++i) out.push_back({sdk::fail(error), false, false, refused, {}});
    return std::move(out);
  };
  if (breaker_ && !breaker_->allow()) return all_failed(breaker_->refusal(where()), true);
  auto connection = acquire(deadline);
  if (!connection) return all_failed(connection.error(), false);
  Connection& c = **connection;
  if (auto sent = c.send(commands); !sent) {
    // Perhaps partly written: every command counts as sent, on a broken connection.
    for (std::size_t i = 0; i < commands.size(); ++i) out.push_back({sdk::fail(sent.error()), true, true, false, {}});
  } else {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      auto reply = c.receive_one();
      // An error that broke the connection (lost, or a READONLY that shows
      // a demoted primary) is "broke"; a plain Redis error reply is an answer.
      const bool broke = !reply && c.broken();
      out.push_back({std::move(reply), true, broke, false, broke ? std::nullopt : c.last_redirect()});
    }
  }
  checkin(std::move(*connection));
  return out;
}

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
  if (!settings.retry.may_retry(attempt, std::chrono::steady_clock::now(), deadline)) return false;
  auto delay = settings.retry.delay(attempt);
  log(sdk::LogLevel::warning, why.message + "; retrying in " + std::to_string(delay.count()) + " ms (attempt " +
                                  std::to_string(attempt + 1) + " of " + std::to_string(settings.retry.max_attempts) + ")");
  std::this_thread::sleep_for(delay);
  return true;
}

}  // namespace strata::redis
