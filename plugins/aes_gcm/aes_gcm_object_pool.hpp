#pragma once
// A small pool of reusable objects: keyed GCM objects are costly to set up
// (key schedule, GHASH tables) and not thread-safe, so each call borrows one.

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace strata::aes_gcm {

template <class T>
class ObjectPool {
 public:
  /// A borrowed object, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(ObjectPool& pool, std::unique_ptr<T> object) : pool_(pool), object_(std::move(object)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(object_)); }
    T* operator->() const noexcept { return object_.get(); }
    T& operator*() const noexcept { return *object_; }

   private:
    ObjectPool& pool_;
    std::unique_ptr<T> object_;
  };

  explicit ObjectPool(std::function<std::unique_ptr<T>()> make) : make_(std::move(make)) {}

  /// An idle object, or a new one when all are in use.
  Lease borrow() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto object = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(object));
      }
    }
    return Lease(*this, make_());
  }

 private:
  void give_back(std::unique_ptr<T> object) noexcept {
    std::lock_guard lock(mutex_);
    try {
      idle_.push_back(std::move(object));
    } catch (...) {
      // Out of memory growing the idle list: drop the object instead.
    }
  }

  std::function<std::unique_ptr<T>()> make_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace strata::aes_gcm
