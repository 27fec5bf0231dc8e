#include "redis_listener.hpp"

#include <chrono>

namespace strata::redis {

Listener::Listener(Open open, std::string channel, sdk::ChannelListener listener, sdk::Logger log)
    : open_(std::move(open)), channel_(std::move(channel)), listener_(std::move(listener)), log_(std::move(log)) {
  thread_ = std::thread([this] { run(); });
}

Listener::~Listener() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    if (current_) current_->interrupt();
  }
  thread_.join();
}

void Listener::run() {
  using namespace std::chrono_literals;
  auto pause = 100ms;
  while (!stopping_) {
    auto connection = open_();
    if (connection) {
      pause = 100ms;
      listen_once(std::move(*connection));
    } else if (log_) {
      log_(sdk::LogLevel::warning, "redis: cannot listen on channel " + channel_ + " (retrying): " +
                                       connection.error().message);
    }
    // Back off before reconnecting, waking early to stop.
    for (auto slept = 0ms; slept < pause && !stopping_; slept += 20ms) std::this_thread::sleep_for(20ms);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

void Listener::listen_once(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    current_ = connection.get();
  }
  auto clear = [&] {
    std::lock_guard lock(mutex_);
    current_ = nullptr;
  };
  auto subscribed = connection->run({"SUBSCRIBE", channel_});
  if (!subscribed) {
    clear();
    return;
  }
  connection->wait_without_timeout();  // a quiet channel is not a dead server: keepalive finds those
  while (!stopping_) {
    auto reply = connection->receive_one();
    if (!reply) {
      if (connection->broken()) break;
      continue;
    }
    const redisReply* r = reply->get();
    // ["message", channel, payload]
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING) {
      sdk::BytesView payload(reinterpret_cast<const std::uint8_t*>(r->element[2]->str), r->element[2]->len);
      try {
        listener_(payload);
      } catch (...) {  // the listener's failure must not end the subscription
      }
    }
  }
  if (!stopping_ && log_)
    log_(sdk::LogLevel::warning, "redis: lost the subscription to channel " + channel_ + "; reconnecting");
  clear();
}

}  // namespace strata::redis
