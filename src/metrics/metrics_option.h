// The --metrics options of a tracing command (run, trace): their text, their checks, and the
// exporter they start. A command keeps one MetricsServing alive for as long as it traces.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "collect/live_snapshot.h"
#include "common/expected.h"
#include "metrics/metrics_exporter.h"

namespace ipctrace {

struct MetricsOptionText {
    std::string address;  // --metrics ADDR
    std::string comms;    // --metrics-comms N
    std::string hold;     // --hold SEC (only where the command ends on its own: run)
    void add_to(CLI::App& cmd, bool with_hold);
    // The checks that need no socket; one line when something does not parse.
    Status check() const;
};

// Serves /metrics while it lives (when --metrics was given). Throws MetricsError (bad input,
// exit 2) when the address does not parse or cannot be listened on.
class MetricsServing {
public:
    // `announce`: say on stderr where it serves ("ipctrace: serving metrics on URL"); off
    // where stderr belongs to a traced command (url() then tells it).
    explicit MetricsServing(const MetricsOptionText& text, bool announce = true);
    // Where it serves, "" without --metrics.
    std::string url() const { return exporter_ ? exporter_->url() : std::string(); }
    // What the tracing code feeds: nullptr without --metrics.
    LiveSnapshot* live() { return exporter_ ? &live_ : nullptr; }
    // After the run: keep serving its final values for --hold seconds, so that a scraper
    // collects them; a stop signal ends the wait early (the run's exit code stands).
    void hold() const;

private:
    LiveSnapshot live_;
    std::unique_ptr<MetricsExporter> exporter_;  // after live_: stops serving before it goes
    double hold_s_ = 0;
};

}  // namespace ipctrace
