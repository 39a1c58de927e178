#include "render/compare_text.h"

#include <cstdio>

#include "common/format.h"
#include "model/compare_verdict.h"
#include "render/report_json.h"

namespace ipctrace {
namespace {

using json = nlohmann::ordered_json;

std::string fmt_row(const ComparedRow& row, bool pingpong) {
    const RunFigures& f = row.median;
    char buf[512];
    const std::string speed_s = format_bytes(f.throughput_mib_s * 1048576.0) + "/s";
    std::string spread = "-";
    if (row.runs > 1 && f.rtt_p50_ns)  // ping-pong ranks by round trip: its spread is of RTT p50
        spread = "p50 " + format_ns(1e9 / row.throughput_max) + "-" + format_ns(1e9 / row.throughput_min);
    else if (row.runs > 1)
        spread = format_bytes(row.throughput_min * 1048576.0) + "-" + format_bytes(row.throughput_max * 1048576.0);
    std::snprintf(buf, sizeof buf, "%-9s %-14s %12s %10.0f %10.0f %9.2f %9.2f %10.1f %9.2f %8.0f%% %6.2f/%-6.2f %8.3f",
                  format_bytes(static_cast<double>(f.message_size)).c_str(), f.workload.c_str(), speed_s.c_str(), f.messages_per_s,
                  f.traced_messages_per_s, f.syscalls_per_message, f.copies_per_byte, f.page_faults_per_mib,
                  f.context_switches_per_message, f.syscall_time_share * 100, f.user_s, f.sys_s, f.cpu_s_per_million);
    std::string line = buf;
    if (pingpong) line += " " + format_ns(static_cast<double>(f.rtt_p50_ns)) + "/" + format_ns(static_cast<double>(f.rtt_p99_ns));
    if (row.runs > 1) line += "  " + spread + (row.wide_spread() ? " (wide)" : "");
    if (!f.ok) line += "  FAILED";
    return line + "\n";
}

std::string ns_text(double ns) { return ns < 0 ? "-" + format_ns(-ns) : format_ns(ns); }

std::string budget_row(const RunFigures& f) {
    const MessageBudget& b = f.budget;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-9s %-14s %10s %10s %10s %10s %10s %10s %10s %11s %6.1f%% %10s\n",
                  format_bytes(static_cast<double>(f.message_size)).c_str(), f.workload.c_str(),
                  (std::to_string(b.roles) + "x" + format_ns(b.wall_ns)).c_str(), ns_text(b.copy_calls_ns).c_str(),
                  ns_text(b.sync_calls_ns).c_str(), ns_text(b.off_cpu_in_calls_ns).c_str(), ns_text(b.off_cpu_outside_ns).c_str(),
                  ns_text(b.user_ns).c_str(), ns_text(b.tracer_ns).c_str(), ns_text(b.unexplained_ns).c_str(), b.error() * 100,
                  ns_text(b.rusage_cpu_ns).c_str());
    return buf;
}

json budget_json(const MessageBudget& b) {
    return {{"roles", b.roles},
            {"wall_ns", b.wall_ns},
            {"role_ns", b.role_ns},
            {"parts",
             {{"copy_calls_ns", b.copy_calls_ns},
              {"sync_calls_ns", b.sync_calls_ns},
              {"off_cpu_in_calls_ns", b.off_cpu_in_calls_ns},
              {"off_cpu_outside_calls_ns", b.off_cpu_outside_ns},
              {"user_ns", b.user_ns},
              {"tracer_ns", b.tracer_ns}}},
            {"unexplained_ns", b.unexplained_ns},
            {"error", b.error()},
            {"page_faults", b.page_faults},
            {"rusage_cpu_ns", b.rusage_cpu_ns},
            {"tracer_all_processes_ns", b.tracer_kernel_ns}};
}

json figures_json(const ComparedRow& row) {
    const RunFigures& f = row.median;
    json out = {{"workload", f.workload},
                {"message_size", f.message_size},
                {"messages", f.messages},
                {"throughput_mib_s", f.throughput_mib_s},
                {"messages_per_s", f.messages_per_s},
                {"traced_messages_per_s", f.traced_messages_per_s},
                {"traced_throughput_mib_s", f.traced_throughput_mib_s},
                {"cpu_s_per_million_messages", f.cpu_s_per_million},
                {"syscalls_per_message", f.syscalls_per_message},
                {"copies_per_payload_byte", f.copies_per_byte},
                {"page_faults_per_mib", f.page_faults_per_mib},
                {"context_switches_per_message", f.context_switches_per_message},
                {"syscall_time_share", f.syscall_time_share},
                {"cpu", {{"user_s", f.user_s}, {"sys_s", f.sys_s}}},
                {"sync", f.sync},
                {"top_syscall", f.top_syscall},
                {"ok", f.ok},
                {"spread", {{"runs", row.runs}, {"min", row.throughput_min}, {"max", row.throughput_max}, {"wide", row.wide_spread()}}}};
    if (f.rtt_p50_ns) out["rtt"] = {{"p50_ns", f.rtt_p50_ns}, {"p99_ns", f.rtt_p99_ns}};
    if (f.budget.measured()) out["budget"] = budget_json(f.budget);
    return out;
}

std::string settings_text(const CompareSettings& plan) {
    std::string s = "ipctrace compare: ";
    s += plan.count ? std::to_string(plan.count) + " messages per run"
                    : format_bytes(static_cast<double>(plan.bytes)) + " per run (at least " + std::to_string(kCompareMinCountPerRun) + ", at most " +
                          std::to_string(plan.pingpong() ? kComparePingPongMaxCount : kCompareMaxCountPerRun) + " messages)";
    s += std::string(", ") + (plan.base.mode == workloads::Mode::PingPong ? "ping-pong" : "stream");
    if (plan.base.sync != workloads::Sync::Default) s += ", sync " + std::string(workloads::to_string(plan.base.sync));
    s += ", median of " + std::to_string(plan.repeat) + " run" + (plan.repeat > 1 ? "s" : "") +
         ", each untraced (speed, latency, CPU) then traced (costs, budget), after an untraced warm-up\n";
    return s;
}


}  // namespace

std::string comparison_title(const CompareSettings& plan) {
    std::string t = "ipctrace compare: ";
    t += plan.sizes.size() > 1 ? "throughput vs message size" : "throughput at " + format_bytes(static_cast<double>(plan.sizes.front())) + " messages";
    return t + (plan.base.mode == workloads::Mode::PingPong ? " (ping-pong)" : " (stream)");
}

std::string comparison_text(const Comparison& c) {
    const CompareSettings& plan = c.settings;
    const auto& ranked_by_size = c.ranked_by_size;
    const bool pingpong = plan.pingpong();
    std::string out = settings_text(plan);
    char head[512];
    std::snprintf(head, sizeof head, "\n%-9s %-14s %12s %10s %10s %9s %9s %10s %9s %9s %13s %8s", "SIZE", "WORKLOAD", "THROUGHPUT",
                  "MSG/S", "TRACED", "SYSC/MSG", "COPIES/B", "FAULTS/MiB", "CSW/MSG", "IN CALLS", "CPU usr/sys s", "CPU s/M");
    out += head;
    if (pingpong) out += " RTT p50/p99";
    if (plan.repeat > 1) out += "  SPREAD";
    out += "\n";
    for (const auto& rows : ranked_by_size)
        for (const auto& row : rows) out += fmt_row(row, pingpong);
    bool any_budget = false;
    for (const auto& rows : ranked_by_size)
        for (const auto& row : rows) any_budget = any_budget || row.median.budget.measured();
    if (any_budget) {
        out += fmt("\nTime budget per %s of the traced run, in role time (each role from the start to its last message, added up), each part timed on its own:\n",
                   pingpong ? "round trip" : "message");
        char bhead[512];
        std::snprintf(bhead, sizeof bhead, "%-9s %-14s %10s %10s %10s %10s %10s %10s %10s %11s %7s %10s\n", "SIZE", "WORKLOAD",
                      "ROLE TIME", "COPY CALLS", "SYNC CALLS", "OFF IN CALL", "OFF OTHER", "USER", "TRACER", "UNEXPLAINED", "ERROR",
                      "RUSAGE CPU");
        out += bhead;
        for (const auto& rows : ranked_by_size)
            for (const auto& row : rows)
                if (row.median.budget.measured()) out += budget_row(row.median);
    }
    out += "\nVerdict:\n";
    for (const auto& rows : ranked_by_size)
        for (const auto& sentence : verdict_for_size(rows)) out += "  " + sentence + "\n";
    if (ranked_by_size.size() > 1)
        for (const auto& sentence : verdict_for_sweep(ranked_by_size)) out += "  " + sentence + "\n";
    out += "\nMSG/S, THROUGHPUT, RTT and CPU are of the untraced runs (the ranking never includes the tracer); TRACED is the traced "
           "run's msg/s, whose costs fill the other columns. COPIES/B: bytes through read/write/send/recv/msgsnd… per payload byte (2 "
           "for a socket or pipe: into the kernel and out; 1 for process_vm_readv/writev, one copy between the address spaces; 0: "
           "the pages were shared). IN CALLS: share of the roles' wall time spent inside IPC syscalls. CPU s/M: the roles' CPU seconds "
           "per million messages. Budget: COPY/SYNC CALLS on CPU inside IPC calls that copy bytes / move none; OFF IN CALL off CPU "
           "inside them (waiting for the peer, wake-up); OFF OTHER off CPU elsewhere; USER on CPU outside IPC calls (the payload, "
           "memory traffic, page faults, other syscalls); TRACER the probes run for the roles; RUSAGE CPU the kernel's check of the "
           "on-CPU parts.\n";
    return out;
}

json comparison_json(const Comparison& c) {
    const CompareSettings& plan = c.settings;
    const auto& ranked_by_size = c.ranked_by_size;
    json runs = json::array();
    for (const auto& report : c.runs) runs.push_back(report_to_json(report));
    json names = json::array();
    for (const auto& e : plan.entries) names.push_back(e.label);
    json results = json::array();
    for (const auto& rows : ranked_by_size) {
        json ranking = json::array(), list = json::array();
        for (const auto& row : rows) {
            ranking.push_back(row.median.workload);
            list.push_back(figures_json(row));
        }
        results.push_back({{"message_size", rows.empty() ? 0 : rows.front().median.message_size},
                           {"ranking", ranking},
                           {"rows", list},
                           {"verdict", verdict_for_size(rows)}});
    }
    return {{"schema_version", kSchemaVersion},
            {"tool", tool_to_json()},
            {"mode", "compare"},
            {"settings",
             {{"workloads", names},
              {"sizes", plan.sizes},
              {"bytes_per_run", plan.count ? 0 : plan.bytes},
              {"count", plan.count},
              {"max_count_per_run", plan.pingpong() ? kComparePingPongMaxCount : kCompareMaxCountPerRun},
              {"mode", std::string(workloads::to_string(plan.base.mode))},
              {"sync", std::string(workloads::to_string(plan.base.sync))},
              {"repeat", plan.repeat},
              {"warmup", true}}},
            {"results", results},
            {"verdict", ranked_by_size.size() > 1 ? verdict_for_sweep(ranked_by_size) : std::vector<std::string>{}},
            {"runs", std::move(runs)},
            {"notes", c.notes}};
}
}  // namespace ipctrace
