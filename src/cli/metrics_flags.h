// --metrics on the tracing commands (run, trace). Built without the exporter
// (-DIPCTRACE_METRICS=OFF: no prometheus-cpp), the commands have no such options and serve
// nothing; the types below keep run and trace free of #ifs.
#pragma once

#if IPCTRACE_WITH_METRICS
#include "metrics/metrics_option.h"
#else
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

#include "collect/live_snapshot.h"
#include "common/expected.h"

namespace ipctrace {

struct MetricsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct MetricsOptionText {
    std::string address;
    void add_to(CLI::App&, bool) {}
    Status check() const { return {}; }
};

class MetricsServing {
public:
    explicit MetricsServing(const MetricsOptionText&, bool = true) {}
    std::string url() const { return {}; }
    LiveSnapshot* live() { return nullptr; }
    void hold() const {}
};

}  // namespace ipctrace
#endif
