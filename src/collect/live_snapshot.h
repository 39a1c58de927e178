// What a metrics scrape reads: the tracer's maps while it is loaded, then the final snapshot
// once it is gone, so `--hold` can keep serving the run's last values. Scrapes come from
// the exporter's threads; the mutex keeps the tracer alive for the length of one read.
#pragma once

#include <functional>
#include <mutex>

#include "common/snapshot.h"

namespace ipctrace {

class Tracer;

class LiveSnapshot {
public:
    // Before any tracer: an empty snapshot (no series but ipctrace's own).
    Snapshot get() const;

    // While a Following lives, get() reads `tracer`'s maps. Its end freezes what the maps
    // hold (unless finish() already did), so the tracer may go right after it. Declare it
    // after the Tracer it follows.
    class [[nodiscard]] Following {
    public:
        Following(LiveSnapshot& live, const Tracer& tracer);
        // Reads through `read` instead (trace: the kernel's figures plus those of the processes
        // whose entries were reclaimed); whatever `read` uses must outlive this.
        Following(LiveSnapshot& live, std::function<Snapshot()> read);
        ~Following();
        Following(const Following&) = delete;
        Following& operator=(const Following&) = delete;

    private:
        LiveSnapshot& live_;
    };

    // The run is over: serve `final` from now on (the very snapshot its report was built from,
    // so a scrape after the run equals the JSON).
    void finish(Snapshot final);

private:
    mutable std::mutex mutex_;
    std::function<Snapshot()> read_;  // empty: serve final_
    Snapshot final_;
};

}  // namespace ipctrace
