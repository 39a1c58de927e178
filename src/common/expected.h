// The one error idiom of ipctrace: parsing and validation return an Expected — a value, or
// the one line to show the user — and only system failures throw. C++20 has no
// std::expected; this is the small part of it ipctrace uses.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ipctrace {

// The error side: one line for the user, without the "ipctrace: " prefix.
struct Unexpected {
    std::string message;
};
inline Unexpected unexpected(std::string message) { return Unexpected{std::move(message)}; }

template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected error) : v_(std::in_place_index<1>, std::move(error.message)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const std::string& error() const { return std::get<1>(v_); }

private:
    std::variant<T, std::string> v_;
};

// Success without a value, or the error line.
template <>
class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    Expected(Unexpected error) : error_(std::move(error.message)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const std::string& error() const { return error_; }

private:
    std::string error_;
    bool ok_ = true;
};

using Status = Expected<void>;

}  // namespace ipctrace
