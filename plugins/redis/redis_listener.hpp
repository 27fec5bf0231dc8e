#pragma once
// One channel's subscriber (Cache::listen, SDK 1.10): a thread holding its
// own connection in subscribe mode, calling the listener with each message,
// reconnecting after a lost connection (backing off up to 2 s). Messages
// published while it is disconnected are lost: Redis pub/sub keeps nothing.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "redis_connection.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::redis {

class Listener {
 public:
  /// Opens a connection to a server that sees the channel's messages.
  using Open = std::function<sdk::Result<std::unique_ptr<Connection>>()>;

  Listener(Open open, std::string channel, sdk::ChannelListener listener, sdk::Logger log);
  /// Stops: interrupts the connection's read and joins the thread.
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  void run();
  // Subscribes on a fresh connection and delivers until it breaks or stop.
  void listen_once(std::unique_ptr<Connection> connection);

  Open open_;
  const std::string channel_;
  sdk::ChannelListener listener_;
  sdk::Logger log_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;         // guards current_ against the destructor's interrupt
  Connection* current_ = nullptr;
  std::thread thread_;
};

}  // namespace strata::redis
