#include "metrics/metrics_families.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "model/report.h"

namespace ipctrace {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string syscall_label(unsigned nr) {
    const auto name = syscall_name(nr);
    return name.empty() ? "syscall_" + std::to_string(nr) : std::string(name);
}

// Sums keyed by label values, so that tgids sharing a comm (or folded into `other`) become
// one series; std::map keeps the output order stable across scrapes.
template <typename Key>
using Sums = std::map<Key, uint64_t>;

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, uint64_t value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = static_cast<double>(value);
    return m;
}

// The label of each tgid's comm.
std::map<pid_t, std::string> labels_by_tgid(const Snapshot& snap, CommLabeler& labeler) {
    std::map<pid_t, std::string> comm_of;
    std::map<std::string, uint64_t> syscalls_by_comm;
    auto comm = [&](pid_t tgid) -> const std::string& {
        auto it = comm_of.find(tgid);
        if (it == comm_of.end()) {
            const auto p = snap.procs.find(tgid);
            it = comm_of.emplace(tgid, comm_label(p == snap.procs.end() ? std::string() : p->second.comm)).first;
        }
        return it->second;
    };
    for (const auto& [key, stats] : snap.calls) syscalls_by_comm[comm(std::get<0>(key))] += stats.count;
    for (const auto& [key, stats] : snap.proc_mech) syscalls_by_comm[comm(key.first)] += 0;
    for (const auto& [key, ops] : snap.uring_ops) syscalls_by_comm[comm(std::get<0>(key))] += 0;
    const auto label = labeler.assign(syscalls_by_comm);
    for (auto& [tgid, name] : comm_of) name = label.at(name);
    return comm_of;
}

void add_call_families(const Snapshot& snap, const std::map<pid_t, std::string>& comm, std::vector<MetricFamily>& out) {
    Sums<std::tuple<std::string, std::string, std::string>> calls, errors;       // mechanism, syscall, comm
    Sums<std::tuple<std::string, std::string, std::string>> bytes;               // mechanism, direction, comm
    std::map<std::pair<std::string, std::string>, CallStats> latency;           // mechanism, syscall
    for (const auto& [key, s] : snap.calls) {
        const auto& [tgid, mech, nr] = key;
        const std::string m(mechanism_key(mech)), sc = syscall_label(nr), c = comm.at(tgid);
        calls[{m, sc, c}] += s.count;
        errors[{m, sc, c}] += s.errors;
        bytes[{m, "to_kernel", c}] += s.bytes_in;
        bytes[{m, "from_kernel", c}] += s.bytes_out;
        bytes[{m, "zero_copy", c}] += s.bytes_zero_copy;
        if (s.bytes_direct) bytes[{m, "direct", c}] += s.bytes_direct;  // only cross_memory has any
        latency[{m, sc}] += s;
    }

    auto f = family("ipctrace_syscalls_total", "IPC syscalls made by traced processes", MetricType::Counter);
    for (const auto& [k, v] : calls)
        f.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"syscall", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_syscall_errors_total", "IPC syscalls that returned an error", MetricType::Counter);
    for (const auto& [k, v] : errors)
        f.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"syscall", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_bytes_total",
               "Bytes IPC syscalls moved: copied into the kernel, out of it, or moved without a user copy (splice, sendfile)",
               MetricType::Counter);
    for (const auto& [k, v] : bytes)
        f.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"direction", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_syscall_duration_seconds", "Time in IPC syscalls (kernel log2 histogram: bounds are powers of two ns)",
               MetricType::Histogram);
    const std::vector<double> bounds = duration_bucket_bounds();
    for (const auto& [k, s] : latency) {
        ClientMetric m;
        m.label = {{"mechanism", k.first}, {"syscall", k.second}};
        m.histogram.sample_sum = static_cast<double>(s.total_ns) / 1e9;
        uint64_t cumulative = 0;
        const Log2Slots slots = log2_slots(s.hist);
        for (size_t slot = 0; slot < bounds.size(); ++slot) {
            cumulative += slots[slot];
            m.histogram.bucket.push_back({cumulative, bounds[slot]});
        }
        // +Inf and _count from the slots themselves, not from `count`: a scrape can read a
        // CPU's entry between its count++ and hist++, and the buckets must stay monotonic.
        cumulative += slots[bounds.size()];
        m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
        m.histogram.sample_count = cumulative;
        f.metric.push_back(std::move(m));
    }
    out.push_back(std::move(f));
}

void add_event_families(const Snapshot& snap, const std::map<pid_t, std::string>& comm, std::vector<MetricFamily>& out) {
    Sums<std::pair<std::string, std::string>> faults, copy_faults;  // mechanism, comm
    Sums<std::tuple<std::string, std::string, std::string>> switches;  // mechanism, kind, comm
    for (const auto& [key, e] : snap.proc_mech) {
        const std::string m(mechanism_key(key.second)), c = comm.at(key.first);
        faults[{m, c}] += e.page_faults;
        copy_faults[{m, c}] += e.copy_faults;
        switches[{m, "voluntary", c}] += e.voluntary_switches;
        switches[{m, "involuntary", c}] += e.involuntary_switches;
    }
    auto f = family("ipctrace_page_faults_total",
                    "Page faults on the shared mappings of a mechanism (mechanism=\"other\": outside any IPC object)",
                    MetricType::Counter);
    for (const auto& [k, v] : faults) f.metric.push_back(counter({{"mechanism", k.first}, {"comm", k.second}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_copy_faults_total", "Kernel-mode faults on private user buffers inside a mechanism's syscalls",
               MetricType::Counter);
    for (const auto& [k, v] : copy_faults) f.metric.push_back(counter({{"mechanism", k.first}, {"comm", k.second}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_context_switches_total",
               "Context switches of traced threads inside a mechanism's syscalls (mechanism=\"other\": outside any)",
               MetricType::Counter);
    for (const auto& [k, v] : switches)
        f.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"kind", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
    out.push_back(std::move(f));
}

// What `trace` adds about applications' I/O (bpf/waits.h, fd_passing.h, io_uring.h); a
// `run` has none of it, and a family with no sample is still listed, as the others are.
void add_app_io_families(const Snapshot& snap, const std::map<pid_t, std::string>& comm, std::vector<MetricFamily>& out) {
    Sums<std::pair<std::string, std::string>> wait_ns, ready;            // mechanism, comm
    Sums<std::string> idle_ns, timeouts;                                  // comm
    Sums<std::tuple<std::string, std::string, std::string, std::string>> passed;  // mechanism, direction, kind, comm
    for (const auto& [key, e] : snap.proc_mech) {
        const std::string m(mechanism_key(key.second)), c = comm.at(key.first);
        if (e.waits.wait_ns || e.waits.ready_fds) {
            wait_ns[{m, c}] += e.waits.wait_ns;
            ready[{m, c}] += e.waits.ready_fds;
        }
        if (e.waits.idle_ns || e.waits.timeouts) {
            idle_ns[c] += e.waits.idle_ns;
            timeouts[c] += e.waits.timeouts;
        }
        for (unsigned k = 0; k < FD_KIND_COUNT; ++k) {
            const std::string kind(fd_kind_key(k));
            if (e.fds_passed.sent_kinds[k]) passed[{m, "sent", kind, c}] += e.fds_passed.sent_kinds[k];
            if (e.fds_passed.received_kinds[k]) passed[{m, "received", kind, c}] += e.fds_passed.received_kinds[k];
        }
    }
    auto seconds = [](std::vector<ClientMetric::Label> labels, uint64_t ns) {
        ClientMetric m;
        m.label = std::move(labels);
        m.counter.value = static_cast<double>(ns) / 1e9;
        return m;
    };
    auto f = family("ipctrace_wait_seconds_total",
                    "Time blocked in epoll_wait/poll/select, split equally among the mechanisms of the descriptors that became ready",
                    MetricType::Counter);
    for (const auto& [k, v] : wait_ns) f.metric.push_back(seconds({{"mechanism", k.first}, {"comm", k.second}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_wait_ready_fds_total", "Descriptors that epoll_wait/poll/select returned ready", MetricType::Counter);
    for (const auto& [k, v] : ready) f.metric.push_back(counter({{"mechanism", k.first}, {"comm", k.second}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_wait_idle_seconds_total", "Time blocked in waits that returned with nothing ready (idle)", MetricType::Counter);
    for (const auto& [k, v] : idle_ns) f.metric.push_back(seconds({{"comm", k}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_wait_timeouts_total", "Waits that timed out with nothing ready", MetricType::Counter);
    for (const auto& [k, v] : timeouts) f.metric.push_back(counter({{"comm", k}}, v));
    out.push_back(std::move(f));

    f = family("ipctrace_fds_passed_total", "File descriptors passed with SCM_RIGHTS over a mechanism's sockets, by the kind of file",
               MetricType::Counter);
    for (const auto& [k, v] : passed)
        f.metric.push_back(counter(
            {{"mechanism", std::get<0>(k)}, {"direction", std::get<1>(k)}, {"kind", std::get<2>(k)}, {"comm", std::get<3>(k)}}, v));
    out.push_back(std::move(f));

    Sums<std::tuple<std::string, std::string, std::string>> submitted, completed, errors;  // mechanism, opcode, comm
    Sums<std::tuple<std::string, std::string, std::string>> bytes;                         // mechanism, direction, comm
    for (const auto& [key, o] : snap.uring_ops) {
        const auto& [tgid, mech, opcode] = key;
        const std::string m(mechanism_key(mech)), op = uring_op_name(opcode), c = comm.at(tgid);
        submitted[{m, op, c}] += o.submitted;
        completed[{m, op, c}] += o.completed;
        errors[{m, op, c}] += o.errors;
        if (o.bytes_in) bytes[{m, "to_kernel", c}] += o.bytes_in;
        if (o.bytes_out) bytes[{m, "from_kernel", c}] += o.bytes_out;
        if (o.bytes_zero_copy) bytes[{m, "zero_copy", c}] += o.bytes_zero_copy;
    }
    auto by_op = [&](const char* name, const char* help, const decltype(submitted)& sums) {
        auto fam = family(name, help, MetricType::Counter);
        for (const auto& [k, v] : sums)
            fam.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"opcode", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
        out.push_back(std::move(fam));
    };
    by_op("ipctrace_io_uring_submitted_total", "io_uring operations submitted, by opcode and the mechanism of their file", submitted);
    by_op("ipctrace_io_uring_completed_total", "io_uring operations completed, by opcode and the mechanism of their file", completed);
    by_op("ipctrace_io_uring_errors_total", "io_uring completions with an error result", errors);
    f = family("ipctrace_io_uring_bytes_total", "Bytes io_uring operations moved, from their completions", MetricType::Counter);
    for (const auto& [k, v] : bytes)
        f.metric.push_back(counter({{"mechanism", std::get<0>(k)}, {"direction", std::get<1>(k)}, {"comm", std::get<2>(k)}}, v));
    out.push_back(std::move(f));
}

}  // namespace

std::map<std::string, std::string> CommLabeler::assign(const std::map<std::string, uint64_t>& syscalls_by_comm) {
    std::vector<std::pair<std::string, uint64_t>> ranked(syscalls_by_comm.begin(), syscalls_by_comm.end());
    // Busiest first; equal counts by name, so the choice does not depend on map order.
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    std::lock_guard lock(mutex_);
    std::map<std::string, std::string> label;
    for (const auto& [comm, count] : ranked) {
        if (comm != kOtherComm && !named_.count(comm) && named_.size() < top_) named_.insert(comm);
        label[comm] = named_.count(comm) ? comm : kOtherComm;
    }
    return label;
}

std::string comm_label(const std::string& comm) {
    if (comm.empty()) return kOtherComm;
    std::string out = comm;
    for (char& ch : out)
        if (ch < 0x20 || ch > 0x7e) ch = '_';
    return out;
}

std::vector<double> duration_bucket_bounds() {
    std::vector<double> bounds;
    for (int slot = 0; slot + 1 < IPC_HIST_SLOTS; ++slot) bounds.push_back(std::ldexp(1.0, slot + 1) / 1e9);
    return bounds;
}

std::vector<prometheus::MetricFamily> metric_families(const Snapshot& snap, CommLabeler& labeler) {
    std::vector<MetricFamily> out;
    const auto comm = labels_by_tgid(snap, labeler);
    add_call_families(snap, comm, out);
    add_event_families(snap, comm, out);
    add_app_io_families(snap, comm, out);

    Report drops;
    drops.drops = snap.drops;
    auto f = family("ipctrace_lost_events_total",
                    "Events the kernel side could not record (tables full): when it grows, the other counters are lower bounds",
                    MetricType::Counter);
    f.metric.push_back(counter({}, drops.lost_events()));
    out.push_back(std::move(f));

    f = family("ipctrace_build_info", "The ipctrace that exports these metrics (value 1)", MetricType::Gauge);
    ClientMetric info;
    info.label = {{"version", IPCTRACE_VERSION}};
    info.gauge.value = 1;
    f.metric.push_back(std::move(info));
    out.push_back(std::move(f));
    return out;
}

}  // namespace ipctrace
