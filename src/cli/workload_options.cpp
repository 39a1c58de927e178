#include "cli/workload_options.h"

#include "common/format.h"
#include "common/number_parse.h"

namespace ipctrace {

namespace {
// "ring, sem, futex or spin": the values the workloads name, for the help and the errors.
template <class T>
std::string one_of(const std::vector<T>& values) {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i)
        out += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + std::string(workloads::to_string(values[i]));
    return out;
}
}  // namespace

void WorkloadOptionText::add_to(CLI::App& cmd, bool with_size) {
    cmd.add_option("-c,--count", count, "Messages (round trips for ping-pong), e.g. 100000 or 100k");
    if (with_size) cmd.add_option("-s,--size", size, "Bytes per message, e.g. 4096, 4K, 1M (at most 1 GiB)");
    cmd.add_option("--sync", sync,
                   "How shared-memory workloads wait: " + one_of(workloads::sync_values()) +
                       ". Default ring: lock-free SPSC ring, spin then yield then futex park, the peer "
                       "wakes it only when it sleeps (how real transports do it); sem (shm: SysV "
                       "semaphores, posix-shm/mmap: sem_t), futex (a wake per message) and spin are "
                       "the classic waits it is contrasted with");
    cmd.add_option("--mode", mode,
                   "stream (throughput), pingpong (one message in flight, latency) or lossy (udp: "
                   "paced at --rate, no flow control, loss counted)");
    cmd.add_option("--rate", rate, "--mode lossy: datagrams per second the sender paces at, e.g. 200k (default 100k)");
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
    if (!rate.empty()) {
        auto parsed = parse_count(rate);
        if (!parsed) return unexpected("--rate: " + parsed.error());
        params.rate = *parsed;
        if (params.rate == 0) return unexpected("--rate must be at least 1 datagram per second");
    }
    return {};
}

Status parse_sync(const std::string& text, workloads::Sync& out) {
    if (auto v = workloads::sync_from_string(text)) return out = *v, Status{};
    return unexpected("--sync must be " + one_of(workloads::sync_values()) + ", not " + quote(text));
}

Status parse_mode(const std::string& text, workloads::Mode& out) {
    if (auto v = workloads::mode_from_string(text)) return out = *v, Status{};
    return unexpected("--mode must be " + one_of(workloads::mode_values()) + ", not " + quote(text));
}

}  // namespace ipctrace
