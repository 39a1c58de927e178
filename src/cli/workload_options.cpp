#include "cli/workload_options.h"

#include "common/format.h"
#include "common/number_parse.h"

namespace ipctrace {

void WorkloadOptionText::add_to(CLI::App& cmd, bool with_size) {
    cmd.add_option("-c,--count", count, "Messages (round trips for ping-pong), e.g. 100000 or 100k");
    if (with_size) cmd.add_option("-s,--size", size, "Bytes per message, e.g. 4096, 4K, 1M (at most 1 GiB)");
    cmd.add_option("--sync", sync, "How shared-memory workloads wait: sem, futex or spin");
    cmd.add_option("--mode", mode, "stream (throughput) or pingpong (one message in flight, latency)");
}

Status WorkloadOptionText::apply(workloads::Params& params) const {
    if (!count.empty()) {
        auto parsed = parse_count(count);
        if (!parsed) return unexpected(parsed.error());
        params.count = *parsed;
        if (params.count == 0) return unexpected("--count must be at least 1");
    }
    if (!size.empty()) {
        auto parsed = parse_size(size);
        if (!parsed) return unexpected(parsed.error());
        params.size = *parsed;
        if (params.size == 0) return unexpected("--size must be at least 1 byte");
    }
    if (!sync.empty())
        if (auto st = parse_sync(sync, params.sync); !st) return st;
    if (!mode.empty())
        if (auto st = parse_mode(mode, params.mode); !st) return st;
    return {};
}

Status parse_sync(const std::string& text, workloads::Sync& out) {
    for (auto v : {workloads::Sync::Sem, workloads::Sync::Futex, workloads::Sync::Spin})
        if (workloads::to_string(v) == text) return out = v, Status{};
    return unexpected("--sync must be sem, futex or spin, not " + quote(text));
}

Status parse_mode(const std::string& text, workloads::Mode& out) {
    for (auto v : {workloads::Mode::Stream, workloads::Mode::PingPong})
        if (workloads::to_string(v) == text) return out = v, Status{};
    return unexpected("--mode must be stream or pingpong, not " + quote(text));
}

}  // namespace ipctrace
