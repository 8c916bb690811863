// detkit/callback.hpp — callback<R(Args...)>: a copyable, possibly empty holder of any callable,
// used where an options struct takes a user hook (csv_options::progress). It is the part of
// std::function that detkit needs, without <functional>, which costs every file that includes
// csv.hpp about 0.1 s of parsing. Assign a lambda, a function pointer or a
// std::function; test it with `if (cb)`; call it with `cb(args...)`.
//
//     detkit::csv_options opt;
//     opt.progress = [&](std::uint64_t bytes, std::uint64_t rows) { meter.add(bytes, rows); };
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE

template <class Signature>
class callback;

template <class R, class... Args>
class callback<R(Args...)> {
 public:
  callback() noexcept = default;
  callback(std::nullptr_t) noexcept {}  // NOLINT: implicit, as std::function's
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, callback> &&
                                              std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  callback(F&& f)  // NOLINT: implicit, as std::function's
      : held_(make_held(std::forward<F>(f))) {}
  callback(const callback& o) : held_(o.held_ ? o.held_->clone() : nullptr) {}
  callback(callback&& o) noexcept : held_(std::exchange(o.held_, nullptr)) {}
  callback& operator=(callback o) noexcept {
    std::swap(held_, o.held_);
    return *this;
  }
  ~callback() { delete held_; }

  explicit operator bool() const noexcept { return held_ != nullptr; }
  R operator()(Args... args) const { return held_->call(std::forward<Args>(args)...); }

 private:
  struct held_base {
    virtual ~held_base() = default;
    virtual R call(Args... args) = 0;
    virtual held_base* clone() const = 0;
  };
  template <class F>
  struct held final : held_base {
    explicit held(F f) : fn(std::move(f)) {}
    R call(Args... args) override { return static_cast<R>(fn(std::forward<Args>(args)...)); }
    held_base* clone() const override { return new held(fn); }
    F fn;
  };
  // An empty function pointer (or an empty std::function) gives an empty callback, as
  // std::function's constructor does for a null function pointer.
  template <class F>
  static held_base* make_held(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<D> || std::is_constructible_v<bool, const D&>) {
      if (!static_cast<bool>(f)) return nullptr;
    }
    return new held<D>(std::forward<F>(f));
  }

  held_base* held_ = nullptr;
};

DETKIT_END_NAMESPACE
