#include "model/compare_verdict.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "common/format.h"

namespace ipctrace {
namespace {

std::string speed_text(const RunFigures& f) {
    if (f.rtt_p50_ns)
        return fmt("round trip p50 %s, p99 %s", format_ns(static_cast<double>(f.rtt_p50_ns)).c_str(),
                   format_ns(static_cast<double>(f.rtt_p99_ns)).c_str());
    return f.message_size ? format_bytes(f.throughput_mib_s * 1048576.0) + "/s" : fmt("%.0f msg/s", f.messages_per_s);
}

std::string size_text(uint64_t size) { return size ? format_bytes(static_cast<double>(size)) : std::string("no payload"); }

std::string costs(const RunFigures& f) {
    return fmt("%.2f bytes copied through the kernel per payload byte, %.2f syscalls%s and %.2f context switches per message, "
               "%s per call",
               f.copies_per_byte, f.syscalls_per_message, f.top_syscall.empty() || f.syscalls_per_message < 0.01 ? "" : (" (mostly " + f.top_syscall + ")").c_str(),
               f.context_switches_per_message, format_ns(f.ns_per_call).c_str());
}

struct BudgetPart {
    const char* what;
    double MessageBudget::*ns;
    bool synchronisation;  // a cost of waiting for the other side, not of moving the bytes
};

// The parts an untraced run pays too (the tracer's is not among them), in the order a tie goes.
constexpr BudgetPart kParts[] = {
    {"copying through the kernel (on CPU inside the IPC calls that copy bytes)", &MessageBudget::copy_calls_ns, false},
    {"synchronising calls (on CPU inside IPC calls that move no bytes: futex, semop…)", &MessageBudget::sync_calls_ns, true},
    {"waiting for the peer inside IPC calls (off CPU: blocked until its wake-up, or preempted there)",
     &MessageBudget::off_cpu_in_calls_ns, true},
    {"time off CPU outside IPC calls (preempted, or waiting elsewhere)", &MessageBudget::off_cpu_outside_ns, false},
    {"work outside IPC calls (on CPU: producing and checking the payload, memory traffic)", &MessageBudget::user_ns, false},
};

// The one part of the budget that differs most between the two: the gap's cause.
struct Gap {
    const BudgetPart* part = nullptr;
    double extra_ns = 0;
};

Gap largest_difference(const MessageBudget& fast, const MessageBudget& slow) {
    Gap g;
    for (const auto& part : kParts) {
        const double d = slow.*part.ns - fast.*part.ns;
        if (!g.part || d > g.extra_ns) g = {&part, d};
    }
    return g;
}

bool both_budgets(const RunFigures& a, const RunFigures& b) { return a.budget.measured() && b.budget.measured(); }

std::string budget_gap(const RunFigures& fast, const RunFigures& slow) {
    const Gap g = largest_difference(fast.budget, slow.budget);
    const char* per = slow.rtt_p50_ns ? "round trip" : "message";
    if (slow.budget.role_ns <= fast.budget.role_ns)  // the tracer slowed the winner more: its budget cannot explain the gap
        return fmt("Traced, its role time per %s was %s against %s's %s: the tracer reversed the order, so the traced budget does "
                   "not explain this gap (compare the untraced CPU and round trips above).",
                   per, format_ns(slow.budget.role_ns).c_str(), fast.workload.c_str(), format_ns(fast.budget.role_ns).c_str());
    return fmt("Traced, its role time per %s was %s against %s's %s; the largest difference is %s: %s more (%s against %s).", per,
               format_ns(slow.budget.role_ns).c_str(), fast.workload.c_str(), format_ns(fast.budget.role_ns).c_str(), g.part->what,
               format_ns(g.extra_ns).c_str(), format_ns(slow.budget.*g.part->ns).c_str(), format_ns(fast.budget.*g.part->ns).c_str());
}

// Why `slow` lost to `fast`, from the costs both paid per message, the largest first.
std::string explain_gap(const RunFigures& fast, const RunFigures& slow) {
    const double ratio = speed(slow) > 0 ? speed(fast) / speed(slow) : 0;
    const double extra_copy_bytes = (slow.copies_per_byte - fast.copies_per_byte) * static_cast<double>(slow.message_size);
    const double extra_syscalls = slow.syscalls_per_message - fast.syscalls_per_message;
    const double extra_switches = slow.context_switches_per_message - fast.context_switches_per_message;
    const std::string at = size_text(slow.message_size);
    std::string s = fmt("%s (%.1fx slower): %s. ", slow.workload.c_str(), ratio, costs(slow).c_str());
    if (ratio < 1.10 && both_budgets(fast, slow))
        return s + fmt("Within 10 %%: at %s the two are as fast as each other, within what repeated runs vary.", at.c_str());
    if (ratio < 1.10)
        return s + fmt("Within 10 %%: at %s what one pays in copies costs about what the other pays to synchronise.", at.c_str());
    // With a budget the cause is the part that grew most: one cause per gap, timed, not guessed.
    if (both_budgets(fast, slow)) return s + budget_gap(fast, slow);
    // A 4 KiB copy costs about what a syscall entry and exit costs: past that, bytes dominate.
    if (extra_copy_bytes >= 4096)
        return s + fmt("At %s the copies dominate: %s more through the kernel per message than %s.", at.c_str(),
                       format_bytes(extra_copy_bytes).c_str(), fast.workload.c_str());
    // A context switch or a syscall costs a microsecond or so: a fifth more per message shows.
    if (extra_switches > 0.2 && extra_switches >= extra_syscalls)
        return s + fmt("At %s the context switches dominate: %.2f more per message than %s.", at.c_str(), extra_switches, fast.workload.c_str());
    if (extra_syscalls > 0.2)
        return s + fmt("At %s the syscalls dominate: %.2f more per message than %s.", at.c_str(), extra_syscalls, fast.workload.c_str());
    // Calls that move data can be compared per call; a shared-memory workload's calls only
    // wait for the peer, so their length says how long the peer took, not what the kernel did.
    if (slow.copies_per_byte > 0 && fast.copies_per_byte > 0 && slow.ns_per_call > 1.3 * fast.ns_per_call)
        return s + fmt("Much the same calls per message, but each took %s against %s's %s: the gap is the kernel path behind each call.",
                       format_ns(slow.ns_per_call).c_str(), fast.workload.c_str(), format_ns(fast.ns_per_call).c_str());
    if (extra_copy_bytes > 0)
        return s + fmt("The copies (%s more per message) are the measured difference.", format_bytes(extra_copy_bytes).c_str());
    if (slow.copies_per_byte == 0)
        return s + fmt("It copied nothing and made no more syscalls or context switches per message than %s; its calls are waits for "
                       "the other side: the time goes to moving the bytes through memory (cache misses, bandwidth), which syscall "
                       "tracing cannot see.",
                       fast.workload.c_str());
    return s + fmt("It made no more copies, syscalls or context switches per message than %s, and its calls were no slower: the "
                   "cost is outside the syscalls (memory traffic, cache misses), which syscall tracing cannot see.",
                   fast.workload.c_str());
}

}  // namespace

std::vector<ComparedRow> rank(std::vector<ComparedRow> rows) {
    std::stable_sort(rows.begin(), rows.end(), [](const ComparedRow& a, const ComparedRow& b) { return speed(a.median) > speed(b.median); });
    return rows;
}

std::vector<std::string> verdict_for_size(const std::vector<ComparedRow>& ranked) {
    std::vector<std::string> out;
    if (ranked.empty()) return out;
    const RunFigures& fast = ranked.front().median;
    std::string lead = fmt("At %s messages %s was fastest (%s)", size_text(fast.message_size).c_str(), fast.workload.c_str(),
                           speed_text(fast).c_str());
    for (size_t i = 1; i < ranked.size(); ++i) {
        const RunFigures& other = ranked[i].median;
        const double ratio = speed(other) > 0 ? speed(fast) / speed(other) : 0;
        lead += fmt("%s %.1fx %s (%s)", i == 1 ? ":" : ",", ratio, other.workload.c_str(), speed_text(other).c_str());
    }
    out.push_back(lead + ". " + fast.workload + ": " + costs(fast) + ".");
    for (size_t i = 1; i < ranked.size(); ++i) out.push_back(explain_gap(fast, ranked[i].median));

    // The usual story says shared memory wins; say so when it did not, and why.
    if (!is_shared_memory(fast.workload)) {
        for (const auto& row : ranked) {
            const RunFigures& shm = row.median;
            if (!is_shared_memory(shm.workload)) continue;
            if (both_budgets(fast, shm)) {  // the same cause as its gap sentence, never another
                const Gap g = largest_difference(fast.budget, shm.budget);
                out.push_back(fmt("Here shared memory did not win: %s (sync %s) copied %s, and what it paid beyond %s was above all %s "
                                  "(%s more per message).%s",
                                  shm.workload.c_str(), shm.sync.c_str(), shm.copies_per_byte == 0 ? "nothing" : "little",
                                  fast.workload.c_str(), g.part->what, format_ns(g.extra_ns).c_str(),
                                  g.part->synchronisation ? " Synchronisation, not copying, decides here; a wait that spins before it "
                                                            "sleeps avoids it."
                                                          : ""));
                break;
            }
            const bool paid_more = shm.syscalls_per_message > fast.syscalls_per_message + 0.1 ||
                                   shm.context_switches_per_message > fast.context_switches_per_message + 0.1;
            if (paid_more)
                out.push_back(fmt("Here shared memory did not win: %s (sync %s) copied nothing but paid %.2f syscalls and %.2f context "
                                  "switches per message to synchronise, against %.2f and %.2f for %s, whose copies cost little at %s. "
                                  "Synchronisation, not copying, dominates here; try larger messages or --sync spin.",
                                  shm.workload.c_str(), shm.sync.c_str(), shm.syscalls_per_message, shm.context_switches_per_message,
                                  fast.syscalls_per_message, fast.context_switches_per_message, fast.workload.c_str(),
                                  size_text(fast.message_size).c_str()));
            else
                out.push_back(fmt("Here shared memory did not win although %s copied nothing and made no more syscalls or context "
                                  "switches per message than %s: at %s the cost is in memory itself (a ring of large slots outgrows "
                                  "the CPU caches; %.1f page faults per MiB), which syscall tracing cannot see.",
                                  shm.workload.c_str(), fast.workload.c_str(), size_text(fast.message_size).c_str(),
                                  shm.page_faults_per_mib));
            break;
        }
    }
    // What the speed cost in CPU: a spinning wait is fast and burns a CPU while it waits.
    if (fast.cpu_s_per_million > 0 && ranked.size() > 1) {
        std::string others;
        for (size_t i = 1; i < ranked.size(); ++i) {
            const RunFigures& o = ranked[i].median;
            if (o.cpu_s_per_million <= 0) continue;
            others += fmt("%s%s %.3f (%.2fx)", others.empty() ? "" : ", ", o.workload.c_str(), o.cpu_s_per_million,
                          fast.cpu_s_per_million / o.cpu_s_per_million);
        }
        if (!others.empty()) {
            const double cpu_s = fast.cpu_s_per_million;
            bool costlier = false;
            for (size_t i = 1; i < ranked.size(); ++i) costlier = costlier || ranked[i].median.cpu_s_per_million < cpu_s;
            out.push_back(fmt("CPU: %s used %.3f CPU seconds per million messages; %s. %s", fast.workload.c_str(), cpu_s, others.c_str(),
                              costlier ? "Its speed cost CPU: some slower workloads used less per message (a waiting side that spins "
                                         "burns its CPU while it waits)."
                                       : "Its speed cost no extra CPU: it used the least per message."));
        }
    }
    std::string varied;
    for (const auto& row : ranked)
        if (row.wide_spread()) varied += (varied.empty() ? "" : ", ") + row.median.workload;
    if (!varied.empty())
        out.push_back("Throughput varied by more than 25 % between runs for " + varied +
                      ": the machine was busy or the runs too short; rerun with --repeat 5 or a larger --bytes.");
    return out;
}

std::vector<std::string> verdict_for_sweep(const std::vector<std::vector<ComparedRow>>& ranked_by_size) {
    std::vector<std::string> out;
    for (size_t i = 1; i < ranked_by_size.size(); ++i) {
        const auto& before = ranked_by_size[i - 1];
        const auto& after = ranked_by_size[i];
        if (before.empty() || after.empty()) continue;
        const RunFigures& a = before.front().median;
        const RunFigures& b = after.front().median;
        if (a.workload != b.workload)
            out.push_back(fmt("The winner changes between %s and %s: %s up to %s, %s from %s on.", size_text(a.message_size).c_str(),
                              size_text(b.message_size).c_str(), a.workload.c_str(), size_text(a.message_size).c_str(),
                              b.workload.c_str(), size_text(b.message_size).c_str()));
    }
    if (out.empty() && !ranked_by_size.empty() && !ranked_by_size.front().empty())
        out.push_back(fmt("%s was fastest at every size measured.", ranked_by_size.front().front().median.workload.c_str()));
    return out;
}

}  // namespace ipctrace
