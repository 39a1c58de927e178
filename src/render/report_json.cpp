#include "render/report_json.h"

#include <algorithm>

#include "common/mechanisms.h"
#include "common/tool_info.h"
#include "render/waits_render.h"

namespace ipctrace {
namespace {

using json = nlohmann::ordered_json;

std::string syscall_label(unsigned nr) {
    const auto name = syscall_name(nr);
    return name.empty() ? "syscall_" + std::to_string(nr) : std::string(name);
}

nlohmann::ordered_json log2_histogram(const LatencyBuckets& hist) {
    const Log2Slots slots = log2_slots(hist);
    size_t used = slots.size();
    while (used > 0 && slots[used - 1] == 0) --used;
    return json(std::vector<uint64_t>(slots.begin(), slots.begin() + static_cast<long>(used)));
}

// The non-empty buckets as [from_ns, to_ns, calls]: the bounds say how exact a quantile is.
nlohmann::ordered_json latency_buckets(const LatencyBuckets& hist) {
    json out = json::array();
    for (unsigned b = 0; b < hist.size(); ++b)
        if (hist[b]) out.push_back({ipc_hist_lower_ns(b), ipc_hist_lower_ns(b + 1), hist[b]});
    return out;
}

nlohmann::ordered_json call_to_json(const CallStats& c) {
    return {{"count", c.count},
            {"errors", c.errors},
            {"total_ns", c.total_ns},
            {"p50_ns", quantile_ns(c.hist, 0.50)},
            {"p99_ns", quantile_ns(c.hist, 0.99)},
            {"bytes_to_kernel", c.bytes_in},
            {"bytes_from_kernel", c.bytes_out},
            {"bytes_zero_copy", c.bytes_zero_copy},
            {"bytes_direct", c.bytes_direct},
            {"latency_log2_ns", log2_histogram(c.hist)},
            {"latency_buckets", latency_buckets(c.hist)}};
}

// The operations an io_uring carried on this mechanism's files, by opcode.
nlohmann::ordered_json uring_to_json(const std::map<unsigned, UringOpStats>& ops) {
    json out = json::object();
    for (const auto& [opcode, s] : ops)
        out[uring_op_name(opcode)] = {{"submitted", s.submitted},
                                      {"completed", s.completed},
                                      {"errors", s.errors},
                                      {"bytes_to_kernel", s.bytes_in},
                                      {"bytes_from_kernel", s.bytes_out},
                                      {"bytes_zero_copy", s.bytes_zero_copy}};
    return out;
}

nlohmann::ordered_json mechanisms_to_json(const MechanismTable& table, bool include_file_io) {
    json out = json::object();
    for (const auto& [mech, figures] : table)
        if (is_ipc(mech) || (mech == MECH_FILE && include_file_io)) out[std::string(mechanism_key(mech))] = mechanism_to_json(figures);
    return out;
}

}  // namespace

nlohmann::ordered_json mechanism_to_json(const MechanismFigures& m) {
    json syscalls = json::object();
    for (const auto& [nr, stats] : m.syscalls) syscalls[syscall_label(nr)] = call_to_json(stats);
    json out = {{"syscalls", syscalls},
            {"syscall_count", m.calls.count},
            {"errors", m.calls.errors},
            {"time_in_syscalls_ns", m.calls.total_ns},
            {"bytes_to_kernel", m.calls.bytes_in},
            {"bytes_from_kernel", m.calls.bytes_out},
            {"bytes_zero_copy", m.calls.bytes_zero_copy},
            {"bytes_direct", m.calls.bytes_direct},
            {"io_uring", uring_to_json(m.io_uring)},
            {"page_faults", m.events.page_faults},
            {"copy_faults", m.events.copy_faults},
            {"context_switches", {{"voluntary", m.events.voluntary_switches}, {"involuntary", m.events.involuntary_switches}}},
            {"signals", {{"sent", m.events.signals_sent}, {"delivered", m.events.signals_delivered}}}};
    add_wait_fields(out, m);
    return out;
}

nlohmann::ordered_json workload_to_json(const workloads::Result& r) {
    json ops = json::object();
    for (size_t nr = 0; nr < r.ops.size(); ++nr)
        if (r.ops[nr]) ops[syscall_label(static_cast<unsigned>(nr))] = r.ops[nr];
    json uncounted = json::array();
    for (int nr : r.uncounted) uncounted.push_back(syscall_label(static_cast<unsigned>(nr)));
    const double seconds = static_cast<double>(r.elapsed_ns) / 1e9;
    json out = {{"name", r.workload},
                {"messages", r.messages},
                {"message_size", r.params.size},
                {"bytes", r.bytes},
                {"elapsed_ns", r.elapsed_ns},
                {"throughput_mib_s", seconds > 0 ? static_cast<double>(r.bytes) / seconds / 1048576.0 : 0.0},
                {"messages_per_s", seconds > 0 ? static_cast<double>(r.messages) / seconds : 0.0},
                {"mode", std::string(workloads::to_string(r.params.mode))},
                {"sync", std::string(workloads::to_string(r.params.sync))},
                {"verified", r.verified},
                {"ok", r.ok},
                {"error", r.error},
                {"lost_messages", r.lost},
                {"pids", r.pids},
                {"ops", ops},
                {"uncounted_ops", uncounted},
                {"rusage",
                 {{"user_ns", r.user_ns},
                  {"sys_ns", r.sys_ns},
                  {"minflt", r.minflt},
                  {"majflt", r.majflt},
                  {"nvcsw", r.nvcsw},
                  {"nivcsw", r.nivcsw}}}};
    if (r.rtt_p50_ns || r.rtt_p99_ns) out["rtt"] = {{"p50_ns", r.rtt_p50_ns}, {"p99_ns", r.rtt_p99_ns}};
    if (r.datagram)
        out["datagrams"] = {{"sent", r.datagrams_sent},
                            {"delivered", r.datagrams_delivered},
                            {"lost", r.datagrams_lost},
                            {"control_sent", r.control_sent},
                            {"control_received", r.control_received}};
    return out;
}

nlohmann::ordered_json tool_to_json() {
    const ToolInfo& t = tool_info();
    return {{"name", "ipctrace"}, {"version", t.version}, {"commit", t.commit}, {"libbpf", t.libbpf}, {"kernel", t.kernel}};
}

// Every syscall the processes made, IPC or not (kept on the "other" row's events).
static uint64_t all_syscalls(const MechanismTable& table) {
    const auto other = table.find(MECH_NONE);
    return other != table.end() ? other->second.events.all_syscalls : 0;
}

// The memory-mapping calls and faults of every kind, IPC or not, from the "other" row (where
// the kernel keeps them) and the faults of every mechanism.
static nlohmann::ordered_json memory_mappings(const MechanismTable& table) {
    ProcMechStats all;
    for (const auto& [mech, m] : table) all += m.events;
    return {{"mmap", {{"private_file", all.mmap_private_file}, {"private_anon", all.mmap_private_anon}, {"shared", all.mmap_shared}}},
            {"munmap", all.munmaps},
            {"mprotect", all.mprotects},
            {"mremap", all.mremaps},
            {"page_faults", {{"file_backed", all.file_faults}, {"anonymous", all.page_faults - std::min(all.page_faults, all.file_faults)}}}};
}

nlohmann::ordered_json report_to_json(const Report& report) {
    json doc = {{"schema_version", kSchemaVersion},
                {"tool", tool_to_json()},
                {"mode", report.mode},
                {"traced", report.traced}};
    if (report.workload) doc["workload"] = workload_to_json(*report.workload);
    doc["mechanisms"] = mechanisms_to_json(report.mechanisms, report.include_file_io);

    json faults_by = json::object();
    uint64_t faults_total = 0, copy_faults_total = 0, vol = 0, invol = 0;
    for (const auto& [mech, m] : report.mechanisms) {
        faults_total += m.events.page_faults;
        copy_faults_total += m.events.copy_faults;
        vol += m.events.voluntary_switches;
        invol += m.events.involuntary_switches;
        if (mech != MECH_NONE && m.events.page_faults) faults_by[std::string(mechanism_key(mech))] = m.events.page_faults;
    }
    const auto other = report.mechanisms.find(MECH_NONE);
    const ProcMechStats outside = other != report.mechanisms.end() ? other->second.events : ProcMechStats{};
    doc["page_faults"] = {{"total", faults_total}, {"by_mechanism", faults_by}, {"other", outside.page_faults},
                          {"copy_faults", copy_faults_total}};
    doc["context_switches"] = {{"voluntary", vol},
                               {"involuntary", invol},
                               {"outside_ipc", {{"voluntary", outside.voluntary_switches}, {"involuntary", outside.involuntary_switches}}}};
    if (!report.include_file_io) {
        const auto file = report.mechanisms.find(MECH_FILE);
        if (file != report.mechanisms.end()) doc["file_io"] = mechanism_to_json(file->second);
    }

    doc["all_syscalls"] = all_syscalls(report.mechanisms);
    doc["memory_mappings"] = memory_mappings(report.mechanisms);
    doc["waits"] = waits_to_json(report.mechanisms);
    json processes = json::array();
    for (const auto& p : report.processes) {
        // A folded row (trace --keep-exited) is many exited processes: no pid of its own.
        json row = {{"pid", p.info.folded ? 0 : p.pid},
                    {"ppid", p.info.ppid},
                    {"comm", p.info.comm},
                    {"exited", p.info.exited}};
        if (p.info.folded) row["folded"] = p.info.folded;
        row["all_syscalls"] = all_syscalls(p.mechanisms);
        row["memory_mappings"] = memory_mappings(p.mechanisms);
        row["mechanisms"] = mechanisms_to_json(p.mechanisms, report.include_file_io);
        row["waits"] = waits_to_json(p.mechanisms);
        processes.push_back(std::move(row));
    }
    doc["processes"] = processes;

    json drops = json::object();
    for (unsigned reason = 0; reason < DROP_COUNT; ++reason) drops[drop_key(reason)] = report.drops[reason];
    doc["lost_events"] = report.lost_events();
    doc["drops"] = drops;
    doc["notes"] = report.notes;
    if (!report.self_cost.empty()) {
        json costs = json::array();
        for (const auto& c : report.self_cost)
            costs.push_back({{"program", c.program},
                             {"runs", c.runs},
                             {"run_time_ns", c.run_time_ns},
                             {"ns_per_run", c.runs ? static_cast<double>(c.run_time_ns) / static_cast<double>(c.runs) : 0.0}});
        doc["self_cost"] = costs;
    }
    return doc;
}

}  // namespace ipctrace
