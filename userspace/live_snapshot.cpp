#include "live_snapshot.h"

#include "tracer.h"

namespace ipctrace {

Snapshot LiveSnapshot::get() const {
    std::lock_guard lock(mutex_);
    return tracer_ ? tracer_->snapshot() : final_;
}

void LiveSnapshot::finish(Snapshot final) {
    std::lock_guard lock(mutex_);
    tracer_ = nullptr;
    final_ = std::move(final);
}

LiveSnapshot::Following::Following(LiveSnapshot& live, const Tracer& tracer) : live_(live) {
    std::lock_guard lock(live_.mutex_);
    live_.tracer_ = &tracer;
}

LiveSnapshot::Following::~Following() {
    std::lock_guard lock(live_.mutex_);
    if (!live_.tracer_) return;
    // Left early (an exception): keep the last values rather than nothing.
    try {
        live_.final_ = live_.tracer_->snapshot();
    } catch (...) {
    }
    live_.tracer_ = nullptr;
}

}  // namespace ipctrace
