#include "collect/live_snapshot.h"

#include "probe/tracer.h"

namespace ipctrace {

Snapshot LiveSnapshot::get() const {
    std::lock_guard lock(mutex_);
    return read_ ? read_() : final_;
}

void LiveSnapshot::finish(Snapshot final) {
    std::lock_guard lock(mutex_);
    read_ = nullptr;
    final_ = std::move(final);
}

LiveSnapshot::Following::Following(LiveSnapshot& live, const Tracer& tracer)
    : Following(live, [&tracer] { return tracer.snapshot(); }) {}

LiveSnapshot::Following::Following(LiveSnapshot& live, std::function<Snapshot()> read) : live_(live) {
    std::lock_guard lock(live_.mutex_);
    live_.read_ = std::move(read);
}

LiveSnapshot::Following::~Following() {
    std::lock_guard lock(live_.mutex_);
    if (!live_.read_) return;
    // Left early (an exception): keep the last values rather than nothing.
    try {
        live_.final_ = live_.read_();
    } catch (...) {
    }
    live_.read_ = nullptr;
}

}  // namespace ipctrace
