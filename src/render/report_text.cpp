#include "render/report_text.h"

#include <algorithm>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "common/mechanisms.h"
#include "render/waits_render.h"
#include "common/format.h"

namespace ipctrace {
namespace {

void workload_header(std::string& out, const workloads::Result& r) {
    const double seconds = static_cast<double>(r.elapsed_ns) / 1e9;
    std::string shape = r.params.size ? fmt("%" PRIu64 " messages x %s", r.params.count, format_bytes(static_cast<double>(r.params.size)).c_str())
                                      : fmt("%" PRIu64 " round trips", r.params.count);
    std::string how;
    if (r.params.mode != workloads::Mode::Default) how += std::string(workloads::to_string(r.params.mode));
    if (r.params.sync != workloads::Sync::Default) how += (how.empty() ? "" : ", ") + std::string("sync ") + std::string(workloads::to_string(r.params.sync));
    out += fmt("ipctrace run %s: %s%s%s\n", r.workload.c_str(), shape.c_str(), how.empty() ? "" : (" (" + how + ")").c_str(),
               r.verified ? ", every byte verified" : "");
    if (!r.ok) out += fmt("  WORKLOAD FAILED: %s\n", r.error.empty() ? "see above" : r.error.c_str());
    out += fmt("  elapsed %s, %" PRIu64 " messages delivered", format_ns(static_cast<double>(r.elapsed_ns)).c_str(), r.messages);
    if (seconds > 0) {
        if (r.bytes) out += fmt(", %s/s", format_bytes(static_cast<double>(r.bytes) / seconds).c_str());
        out += fmt(", %.0f msg/s", static_cast<double>(r.messages) / seconds);
    }
    out += "\n";
    if (r.rtt_p50_ns) out += fmt("  round trip p50 %s, p99 %s\n", format_ns(static_cast<double>(r.rtt_p50_ns)).c_str(), format_ns(static_cast<double>(r.rtt_p99_ns)).c_str());
    if (r.datagram)
        out += fmt("  datagrams: %" PRIu64 " sent, %" PRIu64 " delivered, %" PRIu64 " lost%s; %" PRIu64
                   " control datagrams (credits, end markers) sent, %" PRIu64 " received\n",
                   r.datagrams_sent, r.datagrams_delivered, r.datagrams_lost,
                   r.params.mode == workloads::Mode::Lossy ? " (lossy: paced, no flow control)" : "", r.control_sent,
                   r.control_received);
    else if (r.lost)
        out += fmt("  lost %" PRIu64 " messages (sent but never received)\n", r.lost);
    out += fmt("  workload CPU: user %s, sys %s; kernel's count: %" PRIu64 " voluntary / %" PRIu64 " involuntary switches, %" PRIu64 " minor faults\n",
               format_ns(static_cast<double>(r.user_ns)).c_str(), format_ns(static_cast<double>(r.sys_ns)).c_str(), r.nvcsw, r.nivcsw, r.minflt);
    if (r.params.sync == workloads::Sync::Spin)
        out += "  note: --sync spin waits by spinning: no syscalls, but a CPU burns while waiting (see user time)\n";
}

std::string per_message(uint64_t value, uint64_t messages) {
    return fmt("%.2f", static_cast<double>(value) / static_cast<double>(messages));
}

// The syscalls counted as IPC: every mechanism's but "other", and regular files' only when
// file I/O counts as IPC.
uint64_t ipc_syscalls(const Report& report) {
    uint64_t n = 0;
    for (const auto& [mech, m] : report.mechanisms)
        if (is_ipc(mech) || (mech == MECH_FILE && report.include_file_io)) n += m.calls.count;
    return n;
}

// Every mapping call, IPC or not: the loader's private file mappings, private and shared
// anonymous memory, apart; the shared ones' IPC is in the rows above.
void memory_mappings(std::string& out, const Report& report) {
    ProcMechStats all;
    for (const auto& [mech, m] : report.mechanisms) all += m.events;
    const uint64_t maps = all.mmap_private_file + all.mmap_private_anon + all.mmap_shared;
    if (maps + all.munmaps + all.mprotects + all.mremaps == 0) return;
    out += fmt("Memory mappings (not IPC unless shared): mmap %" PRIu64 " (private file %" PRIu64 ", private anonymous %" PRIu64
               ", shared %" PRIu64 "), munmap %" PRIu64 ", mprotect %" PRIu64 ", mremap %" PRIu64 "; page faults %" PRIu64
               " file-backed, %" PRIu64 " anonymous.\n",
               maps, all.mmap_private_file, all.mmap_private_anon, all.mmap_shared, all.munmaps, all.mprotects, all.mremaps,
               all.file_faults, all.page_faults - std::min(all.page_faults, all.file_faults));
}

// One row per mechanism; the per-message columns only when there are messages (a `run`).
void mechanism_rows(std::string& out, const Report& report, uint64_t messages) {
    out += fmt("\n%-12s %10s", "MECHANISM", "SYSCALLS");
    if (messages) out += fmt(" %7s", "/MSG");
    out += fmt(" %11s %11s", "TO KERNEL", "FROM KERNEL");
    if (messages) out += fmt(" %9s", "COPY/MSG");
    out += fmt(" %8s %8s %15s %12s\n", "FAULTS", "COPYFLT", "CTXSW vol/inv", "TIME IN CALLS");
    const uint64_t ipc = ipc_syscalls(report);
    for (const auto& [mech, m] : report.mechanisms) {
        if ((mech == MECH_FILE && !report.include_file_io) || mech == MECH_WAIT) continue;  // waits: their own section
        const std::string label = mech == MECH_NONE ? "(not IPC)" : std::string(mechanism_key(mech));
        const uint64_t copied = m.calls.bytes_in + m.calls.bytes_out + m.calls.bytes_direct;
        // Not IPC: every syscall the processes made (all_syscalls, traced) but the IPC ones.
        const uint64_t calls = mech == MECH_NONE && m.events.all_syscalls > ipc ? m.events.all_syscalls - ipc : m.calls.count;
        out += fmt("%-12s %10" PRIu64, label.c_str(), calls);
        if (messages) out += fmt(" %7s", per_message(m.calls.count, messages).c_str());
        out += fmt(" %11s %11s", format_bytes(static_cast<double>(m.calls.bytes_in)).c_str(),
                   format_bytes(static_cast<double>(m.calls.bytes_out)).c_str());
        if (messages) out += fmt(" %9s", format_bytes(static_cast<double>(copied) / static_cast<double>(messages)).c_str());
        out += fmt(" %8" PRIu64 " %8" PRIu64 " %15s %12s\n", m.events.page_faults, m.events.copy_faults,
                   fmt("%" PRIu64 "/%" PRIu64, m.events.voluntary_switches, m.events.involuntary_switches).c_str(),
                   format_ns(static_cast<double>(m.calls.total_ns)).c_str());
    }
}

void syscall_rows(std::string& out, const Report& report) {
    out += fmt("\n%-16s %-12s %10s %7s %11s %10s %10s %10s\n", "SYSCALL", "MECHANISM", "CALLS", "ERRORS", "TOTAL", "AVG", "P50", "P99");
    for (const auto& [mech, m] : report.mechanisms) {
        if (mech == MECH_FILE && !report.include_file_io) continue;
        for (const auto& [nr, c] : m.syscalls) {
            const double avg = c.count ? static_cast<double>(c.total_ns) / static_cast<double>(c.count) : 0;
            out += fmt("%-16s %-12s %10" PRIu64 " %7" PRIu64 " %11s %10s %10s %10s\n", std::string(syscall_name(nr)).c_str(),
                       std::string(mechanism_key(mech)).c_str(), c.count, c.errors, format_ns(static_cast<double>(c.total_ns)).c_str(),
                       format_ns(avg).c_str(), format_ns(static_cast<double>(quantile_ns(c.hist, 0.5))).c_str(),
                       format_ns(static_cast<double>(quantile_ns(c.hist, 0.99))).c_str());
        }
    }
}

// The operations io_uring carried, by the mechanism of their file and opcode: a ring moves data
// without a syscall per operation, so the rows above hold only its io_uring_enter calls.
void uring_rows(std::string& out, const Report& report) {
    bool any = false;
    for (const auto& [mech, m] : report.mechanisms) any = any || !m.io_uring.empty();
    if (!any) return;
    out += fmt("\n%-16s %-12s %10s %10s %7s %11s %11s %11s\n", "IO_URING OP", "MECHANISM", "SUBMITTED", "COMPLETED", "ERRORS",
               "TO KERNEL", "FROM KERNEL", "ZERO-COPY");
    for (const auto& [mech, m] : report.mechanisms)
        for (const auto& [opcode, s] : m.io_uring)
            out += fmt("%-16s %-12s %10" PRIu64 " %10" PRIu64 " %7" PRIu64 " %11s %11s %11s\n", uring_op_name(opcode).c_str(),
                       std::string(mechanism_key(mech)).c_str(), s.submitted, s.completed, s.errors,
                       format_bytes(static_cast<double>(s.bytes_in)).c_str(), format_bytes(static_cast<double>(s.bytes_out)).c_str(),
                       format_bytes(static_cast<double>(s.bytes_zero_copy)).c_str());
}

// Cross-memory attach next to the copies of the other mechanisms: said whenever it moved bytes.
void direct_copy_note(std::string& out, const Report& report) {
    const auto cma = report.mechanisms.find(MECH_CROSS_MEMORY);
    if (cma == report.mechanisms.end() || cma->second.calls.bytes_direct == 0) return;
    out += fmt("cross_memory: %s copied once, directly from one address space to the other by process_vm_readv/writev "
               "(a socket or a pipe copies each byte twice: into the kernel, then out of it).\n",
               format_bytes(static_cast<double>(cma->second.calls.bytes_direct)).c_str());
}

// One sentence on where the data went, from the measured numbers.
void copy_summary(std::string& out, const Report& report, const workloads::Result& r) {
    if (r.bytes == 0) return;
    uint64_t copied = 0, zero_copy = 0;
    bool shared_mapping = false;
    for (const auto& [mech, m] : report.mechanisms)
        if (is_ipc(mech) || (mech == MECH_FILE && report.include_file_io)) {
            copied += m.calls.bytes_in + m.calls.bytes_out + m.calls.bytes_direct;
            zero_copy += m.calls.bytes_zero_copy;
            for (const auto& [opcode, s] : m.io_uring) {
                copied += s.bytes_in + s.bytes_out;
                zero_copy += s.bytes_zero_copy;
            }
            shared_mapping = shared_mapping || mech == MECH_SYSV_SHM || mech == MECH_POSIX_SHM || mech == MECH_MMAP_FILE ||
                             mech == MECH_MMAP_ANON;
        }
    // Signals carry their value inside siginfo, which no byte rule counts: say nothing then.
    if (copied == 0 && !shared_mapping) return;
    out += fmt("\n%s of payload crossed the user/kernel boundary %.2f times per byte (%s copied by syscalls)%s.\n",
               format_bytes(static_cast<double>(r.bytes)).c_str(), static_cast<double>(copied) / static_cast<double>(r.bytes),
               format_bytes(static_cast<double>(copied)).c_str(),
               copied == 0 ? ": the processes shared the pages instead of copying" : "");
    if (zero_copy) out += fmt("%s moved through the kernel without a user copy.\n", format_bytes(static_cast<double>(zero_copy)).c_str());
}

}  // namespace

std::string report_to_text(const Report& report) {
    std::string out;
    const uint64_t messages = report.workload ? report.workload->messages : 0;
    if (report.workload) workload_header(out, *report.workload);
    if (!report.traced) {
        out += "  (not traced: --no-trace)\n";
        return out;
    }
    mechanism_rows(out, report, messages);
    syscall_rows(out, report);
    out += waits_to_text(report.mechanisms);
    out += fds_passed_to_text(report.mechanisms);
    uring_rows(out, report);
    if (report.workload) copy_summary(out, report, *report.workload);
    direct_copy_note(out, report);
    if (!report.include_file_io) {
        const auto file = report.mechanisms.find(MECH_FILE);
        if (file != report.mechanisms.end())
            out += fmt("Regular-file I/O (not counted as IPC): %" PRIu64 " calls, %s written, %s read.\n", file->second.calls.count,
                       format_bytes(static_cast<double>(file->second.calls.bytes_in)).c_str(),
                       format_bytes(static_cast<double>(file->second.calls.bytes_out)).c_str());
    }
    memory_mappings(out, report);
    const uint64_t lost = report.lost_events();
    out += fmt("Lost events: %" PRIu64 "%s\n", lost, lost ? " (the counts above are lower bounds)" : "");
    if (!report.self_cost.empty()) {
        uint64_t total = 0;
        out += fmt("\n%-22s %12s %12s %10s\n", "PROBE (self cost)", "RUNS", "TOTAL", "PER RUN");
        for (const auto& c : report.self_cost) {
            total += c.run_time_ns;
            out += fmt("%-22s %12llu %12s %10s\n", c.program.c_str(), static_cast<unsigned long long>(c.runs),
                       format_ns(static_cast<double>(c.run_time_ns)).c_str(),
                       c.runs ? format_ns(static_cast<double>(c.run_time_ns) / static_cast<double>(c.runs)).c_str() : "-");
        }
        out += fmt("%-22s %12s %12s\n", "all probes", "", format_ns(static_cast<double>(total)).c_str());
    }
    if (report.drops[DROP_FAULT_UNRESOLVED])
        out += fmt("Faults whose mapping could not be looked up (counted as not IPC): %" PRIu64 "\n", report.drops[DROP_FAULT_UNRESOLVED]);
    return out;
}

}  // namespace ipctrace
