#include "render/trace_text.h"
#include "render/comm_map_render.h"

#include <cinttypes>
#include <cstring>

#include "common/format.h"
#include "common/mechanisms.h"
#include "render/report_text.h"

namespace ipctrace {
namespace {

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

std::string ending(const TraceReport& t) {
    std::string out;
    if (t.reason == StopReason::Duration) out = "stopped after --duration";
    if (t.reason == StopReason::Signal) out = "stopped by " + signal_name(t.signal);
    if (t.reason == StopReason::TargetsExited) out = "every traced process exited";
    if (t.command_status) {
        const ExitStatus& s = *t.command_status;
        const std::string how = s.signal ? "was killed by " + signal_name(s.signal) : "exited with status " + std::to_string(s.code);
        out += out.empty() ? "the command " + how : "; the command ran on and " + how;
    }
    return out;
}

bool counts(Mechanism mech, const Report& r) { return is_ipc(mech) || (mech == MECH_FILE && r.include_file_io); }

bool active(const MechanismFigures& m) {
    const ProcMechStats& e = m.events;
    return m.calls.count || !m.io_uring.empty() || e.page_faults || e.copy_faults || e.voluntary_switches || e.involuntary_switches || e.signals_sent ||
           e.signals_delivered;
}

}  // namespace

std::string process_matrix(const TraceReport& t) {
    const Report& r = t.report;
    std::string out = fmt("\n%-8s %-16s %-7s %-12s %10s %11s %11s %8s %15s %13s\n", "PID", "COMM", "STATE", "MECHANISM", "SYSCALLS",
                          "TO KERNEL", "FROM KERNEL", "FAULTS", "CTXSW vol/inv", "SIGNALS s/d");
    size_t shown = 0, quiet = 0;
    for (const auto& p : r.processes) {
        bool any = false;
        for (const auto& [mech, m] : p.mechanisms) {
            if (!counts(mech, r) || !active(m)) continue;
            any = true;
            const ProcMechStats& e = m.events;
            // A folded row: PID says how many exited processes it holds.
            const std::string pid = p.info.folded ? fmt("(%u)", p.info.folded) : std::to_string(p.pid);
            out += fmt("%-8s %-16s %-7s %-12s %10" PRIu64 " %11s %11s %8" PRIu64 " %15s %13s\n", pid.c_str(),
                       p.info.comm.empty() ? "?" : p.info.comm.c_str(), p.info.folded ? "folded" : p.info.exited ? "exited" : "running",
                       std::string(mechanism_key(mech)).c_str(), m.calls.count,
                       format_bytes(static_cast<double>(m.calls.bytes_in)).c_str(),
                       format_bytes(static_cast<double>(m.calls.bytes_out)).c_str(), e.page_faults,
                       fmt("%" PRIu64 "/%" PRIu64, e.voluntary_switches, e.involuntary_switches).c_str(),
                       fmt("%" PRIu64 "/%" PRIu64, e.signals_sent, e.signals_delivered).c_str());
        }
        any ? ++shown : ++quiet;
    }
    if (shown == 0) out += "(no process used an IPC mechanism)\n";
    if (quiet) out += fmt("%zu more process%s traced without IPC (only calls, faults and switches that are not IPC).\n", quiet, quiet == 1 ? "" : "es");
    if (t.processes_folded)
        out += fmt("%" PRIu64 " exited process%s folded into one row per command name (STATE folded, PID: how many); "
                   "--keep-exited sets how many keep a row of their own.\n",
                   t.processes_folded, t.processes_folded == 1 ? " is" : "es are");
    if (t.top && t.processes_traced > r.processes.size())
        out += fmt("Only the %zu processes with the most IPC syscalls are listed (--top); %zu were traced.\n", r.processes.size(),
                   t.processes_traced);
    return out;
}

std::string trace_to_text(const TraceReport& t) {
    std::string out;
    const std::string filter = t.comm.empty() ? "" : ", only processes named '" + t.comm + "'";
    if (t.interval) {
        out += fmt("ipctrace trace: interval %u, %s to %s: %zu active process%s%s\n", t.interval->index + 1,
                   format_ns(static_cast<double>(t.interval->start_ns)).c_str(), format_ns(static_cast<double>(t.interval->end_ns)).c_str(),
                   t.processes_traced, t.processes_traced == 1 ? "" : "es", filter.c_str());
    } else {
        out += "ipctrace trace: " + describe(t.target) + filter + "\n";
        out += fmt("  traced %s, %zu process%s", format_ns(static_cast<double>(t.duration_ns)).c_str(), t.processes_traced,
                   t.processes_traced == 1 ? "" : "es");
        const std::string end = ending(t);
        out += (end.empty() ? "" : "; " + end) + "\n";
    }
    out += report_to_text(t.report);
    if (const auto other = t.report.mechanisms.find(MECH_NONE); other != t.report.mechanisms.end() && other->second.events.all_syscalls) {
        uint64_t ipc = 0;
        for (const auto& [mech, m] : t.report.mechanisms)
            if (is_ipc(mech) || (mech == MECH_FILE && t.report.include_file_io)) ipc += m.calls.count;
        const uint64_t all = other->second.events.all_syscalls;
        out += fmt("Syscalls: %" PRIu64 " in all, %" PRIu64 " of them IPC (%.1f%%).\n", all, ipc,
                   100.0 * static_cast<double>(ipc) / static_cast<double>(all));
    }
    // The process tables overflowed: say which, and what to do about it.
    const std::string sized = t.max_procs ? fmt(" (--max-procs %u)", t.max_procs) : "";
    if (const uint64_t n = t.report.drops[DROP_TARGETS_FULL])
        out += fmt("Not followed: %" PRIu64 " forked process%s, the table of traced processes was full%s: raise --max-procs.\n", n,
                   n == 1 ? "" : "es", sized.c_str());
    if (const uint64_t n = t.report.drops[DROP_PROC_FULL])
        out += fmt("Not named: %" PRIu64 " process record%s could not be kept, the process table was full%s: raise --max-procs.\n", n,
                   n == 1 ? "" : "s", sized.c_str());
    out += process_matrix(t);
    if (t.map) out += comm_map_text(*t.map, 20);
    if (!t.interval)  // said once, with the whole trace
        for (const auto& note : t.report.notes) out += "Note: " + note + "\n";
    return out;
}

}  // namespace ipctrace
