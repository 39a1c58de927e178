// The workload options shared by `run` and `compare`: --count, --size, --sync, --mode, --rate,
// parsed with ipctrace's own one-line errors.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "common/expected.h"
#include "workload.h"

namespace ipctrace {

struct WorkloadOptionText {
    std::string count, size, sync, mode, rate;
    void add_to(CLI::App& cmd, bool with_size = true);
    // Fills params from the text; an error line when something does not parse.
    Status apply(workloads::Params& params) const;
};

Status parse_sync(const std::string& text, workloads::Sync& out);
Status parse_mode(const std::string& text, workloads::Mode& out);

}  // namespace ipctrace
