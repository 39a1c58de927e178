// The derived figures and the verdict of `compare`, on fixed figures.
#include <gtest/gtest.h>

#include "model/compare_figures.h"
#include "render/compare_svg.h"
#include "model/compare_verdict.h"
#include "common/format.h"
#include "common/mechanisms.h"
#include "model/comparison.h"
#include "render/compare_text.h"

namespace ipctrace {
namespace {

RunFigures figures(const std::string& workload, uint64_t size, double mib_s, double syscalls, double copies, double switches,
                   const std::string& top) {
    RunFigures f;
    f.workload = workload;
    f.message_size = size;
    f.throughput_mib_s = mib_s;
    f.messages_per_s = mib_s * 1048576.0 / static_cast<double>(size);
    f.syscalls_per_message = syscalls;
    f.copies_per_byte = copies;
    f.context_switches_per_message = switches;
    f.top_syscall = top;
    f.sync = "sem";
    f.ok = true;
    return f;
}

ComparedRow row(const RunFigures& f) { return summarise({f}); }

bool contains(const std::vector<std::string>& sentences, const std::string& needle) {
    for (const auto& s : sentences)
        if (s.find(needle) != std::string::npos) return true;
    return false;
}

TEST(DeriveFigures, PerMessageAndPerByteFromAReport) {
    Report r;
    workloads::Result w;
    w.workload = "unix";
    w.params.size = 4096;
    w.messages = 1000;
    w.bytes = 4096000;
    w.elapsed_ns = 1000000000;
    w.pids = {10, 11};
    w.user_ns = 5e8;
    w.ok = true;
    r.workload = w;
    MechanismFigures& unix = r.mechanisms[MECH_UNIX_STREAM];
    unix.calls.count = 2000;
    unix.calls.bytes_in = 4096000;
    unix.calls.bytes_out = 4096000;
    unix.calls.total_ns = 500000000;
    unix.syscalls[*syscall_number("sendto")].count = 1000;
    unix.syscalls[*syscall_number("recvfrom")].count = 1001;
    unix.events.voluntary_switches = 300;
    r.mechanisms[MECH_NONE].events.page_faults = 40;
    r.mechanisms[MECH_NONE].events.involuntary_switches = 200;
    r.mechanisms[MECH_FILE].calls.count = 99;  // regular files are not IPC: not in syscalls/message

    const RunFigures f = derive_figures(r);
    EXPECT_DOUBLE_EQ(f.syscalls_per_message, 2.0);
    EXPECT_DOUBLE_EQ(f.copies_per_byte, 2.0);
    EXPECT_DOUBLE_EQ(f.context_switches_per_message, 0.5);
    EXPECT_NEAR(f.page_faults_per_mib, 40 / (4096000 / 1048576.0), 1e-9);
    EXPECT_NEAR(f.throughput_mib_s, 4096000 / 1048576.0, 1e-9);
    EXPECT_DOUBLE_EQ(f.messages_per_s, 1000);
    EXPECT_DOUBLE_EQ(f.syscall_time_share, 0.25);  // 0.5 s of calls over 2 roles x 1 s
    EXPECT_DOUBLE_EQ(f.user_s, 0.5);
    EXPECT_EQ(f.top_syscall, "recvfrom");
}

TEST(Summarise, MedianRunAndSpread) {
    const ComparedRow r = summarise({figures("shm", 4096, 900, 4, 0, 0.5, "semop"), figures("shm", 4096, 1500, 4, 0, 0.5, "semop"),
                                     figures("shm", 4096, 1000, 4, 0, 0.5, "semop")});
    EXPECT_EQ(r.runs, 3);
    EXPECT_DOUBLE_EQ(r.median.throughput_mib_s, 1000);
    EXPECT_DOUBLE_EQ(r.throughput_min, 900);
    EXPECT_DOUBLE_EQ(r.throughput_max, 1500);
    EXPECT_TRUE(r.wide_spread());  // 600 / 1000 > 25 %
    EXPECT_FALSE(summarise({figures("shm", 4096, 1000, 4, 0, 0.5, "semop"), figures("shm", 4096, 1100, 4, 0, 0.5, "semop")}).wide_spread());
}

TEST(Verdict, SharedMemoryWinsWhenCopiesDominate) {
    const auto ranked = rank({row(figures("unix", 65536, 3000, 2.1, 2.0, 0.8, "recvfrom")), row(figures("shm", 65536, 4900, 4, 0, 0.5, "semop"))});
    ASSERT_EQ(ranked.front().median.workload, "shm");
    const auto v = verdict_for_size(ranked);
    EXPECT_TRUE(contains(v, "At 64.0 KiB messages shm was fastest")) << v[0];
    EXPECT_TRUE(contains(v, "1.6x unix"));
    EXPECT_TRUE(contains(v, "unix (1.6x slower): 2.00 bytes copied through the kernel per payload byte, 2.10 syscalls (mostly recvfrom)"));
    EXPECT_TRUE(contains(v, "At 64.0 KiB the copies dominate: 128.0 KiB more through the kernel per message than shm."));
    EXPECT_FALSE(contains(v, "did not win"));
}

TEST(Verdict, SaysSoWhenSharedMemoryLoses) {
    const auto ranked = rank({row(figures("shm", 64, 20, 4, 0, 0.42, "semop")), row(figures("unix", 64, 27, 2, 2.0, 0.01, "sendto"))});
    const auto v = verdict_for_size(ranked);
    EXPECT_TRUE(contains(v, "At 64 B messages unix was fastest"));
    EXPECT_TRUE(contains(v, "At 64 B the syscalls dominate: 2.00 more per message than unix."));
    EXPECT_TRUE(contains(v, "Here shared memory did not win: shm (sync sem) copied nothing but paid 4.00 syscalls"));
}

TEST(Verdict, SharedMemoryLosingWithoutPayingMoreIsNotBlamedOnSynchronisation) {
    RunFigures shm = figures("shm", 1 << 20, 1000, 2.0, 0, 1.2, "futex");
    shm.page_faults_per_mib = 8.6;
    const auto v = verdict_for_size(rank({row(shm), row(figures("unix", 1 << 20, 1700, 6.5, 2.0, 9.7, "recvfrom"))}));
    EXPECT_TRUE(contains(v, "Here shared memory did not win although shm copied nothing")) << v.back();
    EXPECT_TRUE(contains(v, "8.6 page faults per MiB"));
    EXPECT_FALSE(contains(v, "Synchronisation, not copying"));
    EXPECT_TRUE(contains(v, "its calls are waits for the other side"));
}

TEST(Verdict, SameCountsSlowerCallsBlameTheKernelPath) {
    RunFigures pipe = figures("pipe", 64, 57, 2, 2, 0, "read");
    pipe.ns_per_call = 600;
    RunFigures tcp = figures("tcp", 64, 39, 2, 2, 0.03, "sendto");
    tcp.ns_per_call = 1400;
    const auto v = verdict_for_size(rank({row(pipe), row(tcp)}));
    EXPECT_TRUE(contains(v, "each took 1.4 us against pipe's 600 ns")) << v[1];
}

TEST(Verdict, CloseResultsAreCalledClose) {
    const auto v = verdict_for_size(rank({row(figures("shm", 4096, 1000, 4, 0, 0.5, "semop")), row(figures("pipe", 4096, 960, 2, 2, 0.3, "read"))}));
    EXPECT_TRUE(contains(v, "Within 10 %"));
}

TEST(Verdict, SweepFindsWhereTheWinnerChanges) {
    std::vector<std::vector<ComparedRow>> sweep = {
        rank({row(figures("shm", 64, 20, 4, 0, 0.42, "semop")), row(figures("unix", 64, 27, 2, 2, 0.01, "sendto"))}),
        rank({row(figures("shm", 1024, 300, 4, 0, 0.42, "semop")), row(figures("unix", 1024, 320, 2, 2, 0.01, "sendto"))}),
        rank({row(figures("shm", 65536, 4900, 4, 0, 0.5, "semop")), row(figures("unix", 65536, 3000, 2, 2, 0.8, "recvfrom"))})};
    const auto v = verdict_for_sweep(sweep);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], "The winner changes between 1.0 KiB and 64.0 KiB: unix up to 1.0 KiB, shm from 64.0 KiB on.");
    EXPECT_EQ(verdict_for_sweep({sweep[2]}), std::vector<std::string>{"shm was fastest at every size measured."});
}

// A hand-made budget per message (ns of role time), adding up to 2 roles x wall.
MessageBudget budget(double wall, double copy, double sync, double off_in, double off_out, double user, double tracer) {
    MessageBudget b;
    b.roles = 2;
    b.wall_ns = wall;
    b.role_ns = 2 * wall;
    b.copy_calls_ns = copy;
    b.sync_calls_ns = sync;
    b.off_cpu_in_calls_ns = off_in;
    b.off_cpu_outside_ns = off_out;
    b.user_ns = user;
    b.tracer_ns = tracer;
    b.unexplained_ns = b.role_ns - b.explained_ns();
    return b;
}

TEST(DeriveBudget, PartsPerMessageFromTheKernelsTimesAndTheRolesRusage) {
    Report r;
    workloads::Result w;
    w.workload = "pipe";
    w.params.size = 64;
    w.messages = 1000;
    w.elapsed_ns = 1000000;  // 1 us per message, 2 us of role time
    w.pids = {10, 11};
    w.user_ns = 300000;
    w.sys_ns = 900000;
    w.ok = true;
    r.workload = w;
    r.budget = TimeBudget{400000, 600000, 100000, 700000, 50000, 130000};
    r.self_cost = {{"on_sys_enter", 10, 200000}, {"on_sys_exit", 10, 100000}};
    const MessageBudget b = derive_figures(r).budget;
    EXPECT_EQ(b.roles, 2);
    EXPECT_DOUBLE_EQ(b.wall_ns, 1000);
    EXPECT_DOUBLE_EQ(b.role_ns, 2000);
    EXPECT_DOUBLE_EQ(b.user_ns, 400);
    EXPECT_DOUBLE_EQ(b.copy_calls_ns, 600);
    EXPECT_DOUBLE_EQ(b.sync_calls_ns, 100);
    EXPECT_DOUBLE_EQ(b.off_cpu_in_calls_ns, 700);
    EXPECT_DOUBLE_EQ(b.off_cpu_outside_ns, 50);
    EXPECT_DOUBLE_EQ(b.tracer_ns, 130);
    EXPECT_DOUBLE_EQ(b.unexplained_ns, 20);  // 2000 - 1980: what no probe saw
    EXPECT_DOUBLE_EQ(b.error(), 0.01);
    EXPECT_DOUBLE_EQ(b.rusage_cpu_ns, 1200);
    EXPECT_DOUBLE_EQ(b.tracer_kernel_ns, 300);
}

TEST(DeriveFigures, SpeedFromTheUntracedRunCostsFromTheTracedOne) {
    Report traced, untraced;
    workloads::Result w;
    w.workload = "pipe";
    w.params.size = 64;
    w.messages = 1000;
    w.bytes = 64000;
    w.elapsed_ns = 4000000;
    w.pids = {10, 11};
    w.ok = true;
    traced.workload = w;
    traced.mechanisms[MECH_PIPE].calls.count = 2000;
    w.elapsed_ns = 1000000;
    w.user_ns = 200000;
    w.sys_ns = 300000;
    untraced.workload = w;
    untraced.traced = false;
    const RunFigures f = derive_figures(traced, untraced);
    EXPECT_DOUBLE_EQ(f.messages_per_s, 1e6);
    EXPECT_DOUBLE_EQ(f.traced_messages_per_s, 250000);
    EXPECT_DOUBLE_EQ(f.syscalls_per_message, 2.0);
    EXPECT_DOUBLE_EQ(f.cpu_s_per_million, 0.5);  // 0.5 ms of CPU for 1000 messages
}

// Fast shared memory against a pipe whose extra time is mostly waiting for the peer: the gap
// names that one part, with its size, and nothing else as the cause.
std::vector<ComparedRow> budget_pair() {
    RunFigures shm = figures("shm", 64, 400, 0.02, 0, 0.01, "futex");
    shm.budget = budget(150, 0, 20, 10, 5, 250, 10);
    shm.cpu_s_per_million = 0.30;
    RunFigures pipe = figures("pipe", 64, 100, 2, 2, 0.4, "read");
    pipe.budget = budget(1500, 900, 0, 1700, 100, 260, 30);
    pipe.cpu_s_per_million = 1.20;
    return rank({row(pipe), row(shm)});
}

TEST(Verdict, GapIsTheLargestBudgetDifference) {
    const auto v = verdict_for_size(budget_pair());
    ASSERT_GE(v.size(), 2u);
    EXPECT_NE(v[1].find("pipe (4.0x slower)"), std::string::npos) << v[1];
    EXPECT_NE(v[1].find("the largest difference is waiting for the peer inside IPC calls"), std::string::npos) << v[1];
    EXPECT_NE(v[1].find("1.7 us more (1.7 us against 10 ns)"), std::string::npos) << v[1];
    // One cause per gap: neither the smaller copy difference nor memory traffic is offered too.
    EXPECT_EQ(v[1].find("copying through the kernel"), std::string::npos) << v[1];
    EXPECT_EQ(v[1].find("memory"), std::string::npos) << v[1];
    EXPECT_TRUE(contains(v, "CPU: shm used 0.300 CPU seconds per million messages; pipe 1.200 (0.25x)"));
    EXPECT_TRUE(contains(v, "Its speed cost no extra CPU"));
}

TEST(Verdict, LosingSharedMemoryIsExplainedByTheSameCauseAsItsGap) {
    RunFigures shm = figures("shm", 64, 20, 4, 0, 0.42, "semop");
    shm.budget = budget(3000, 0, 2500, 2900, 100, 400, 100);
    RunFigures unix = figures("unix", 64, 27, 2, 2.0, 0.01, "sendto");
    unix.budget = budget(2200, 1500, 0, 2400, 100, 400, 0);
    const auto v = verdict_for_size(rank({row(shm), row(unix)}));
    ASSERT_EQ(v.size(), 3u);  // lead, the gap, shared memory did not win
    EXPECT_NE(v[1].find("synchronising calls"), std::string::npos) << v[1];
    EXPECT_NE(v[2].find("Here shared memory did not win"), std::string::npos) << v[2];
    EXPECT_NE(v[2].find("synchronising calls"), std::string::npos) << v[2];
    EXPECT_NE(v[2].find("2.5 us more per message"), std::string::npos) << v[2];
    EXPECT_EQ(v[2].find("memory itself"), std::string::npos) << v[2];
}

TEST(Verdict, TheJsonCarriesTheBudgetTheVerdictWasWrittenFrom) {
    Comparison c;
    c.settings.sizes = {64};
    c.settings.repeat = 1;
    c.ranked_by_size = {budget_pair()};
    const auto doc = comparison_json(c);
    const auto& rows = doc["results"][0]["rows"];
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_EQ(rows[0]["workload"], "shm");
    // The gap the verdict states is the difference of the two JSON budgets' largest-growing part.
    std::string largest;
    double extra = -1e300;
    for (const auto& [part, ns] : rows[1]["budget"]["parts"].items()) {
        if (part == "tracer_ns") continue;  // the untraced runs do not pay it
        const double d = ns.get<double>() - rows[0]["budget"]["parts"][part].get<double>();
        if (d > extra) extra = d, largest = part;
    }
    EXPECT_EQ(largest, "off_cpu_in_calls_ns");
    const std::string gap = doc["results"][0]["verdict"][1];
    EXPECT_NE(gap.find(format_ns(extra) + " more"), std::string::npos) << gap;
    EXPECT_NE(gap.find("role time per message was " + format_ns(rows[1]["budget"]["role_ns"].get<double>())), std::string::npos) << gap;
    EXPECT_DOUBLE_EQ(rows[1]["budget"]["unexplained_ns"].get<double>(), 3000 - 2990);
}

TEST(Verdict, PingPongRanksByTheMedianRoundTrip) {
    RunFigures spin = figures("posix-shm:spin", 64, 3, 0, 0, 0.3, "");
    spin.rtt_p50_ns = 160;
    spin.rtt_p99_ns = 90000;  // preempted now and then: a poor mean, the best median
    RunFigures unix = figures("unix", 64, 4, 4, 4, 2.6, "sendto");
    unix.rtt_p50_ns = 10000;
    unix.rtt_p99_ns = 38000;
    const auto ranked = rank({row(unix), row(spin)});
    ASSERT_EQ(ranked.front().median.workload, "posix-shm:spin");
    const auto v = verdict_for_size(ranked);
    EXPECT_NE(v[0].find("posix-shm:spin was fastest (round trip p50 160 ns, p99 90.0 us): 62.5x unix (round trip p50 10.0 us"),
              std::string::npos)
        << v[0];
}

TEST(Verdict, ATracedBudgetThatReversesTheOrderIsNotUsedAsTheCause) {
    RunFigures fast = figures("posix-shm", 1 << 20, 4000, 2, 0, 0.8, "futex");
    fast.budget = budget(750000, 0, 21000, 996000, 350000, 177000, 5000);
    RunFigures slow = figures("unix", 1 << 20, 2000, 6.6, 2, 9.7, "recvfrom");
    slow.budget = budget(200000, 117000, 500, 125000, 82000, 88000, 5000);
    const auto v = verdict_for_size(rank({row(fast), row(slow)}));
    EXPECT_NE(v[1].find("the tracer reversed the order"), std::string::npos) << v[1];
    EXPECT_EQ(v[1].find("the largest difference"), std::string::npos) << v[1];
}

TEST(CompareSvg, BarsAndLines) {
    const auto one = rank({row(figures("shm", 4096, 1000, 4, 0, 0.5, "semop")), row(figures("unix", 4096, 900, 2, 2, 0.1, "read"))});
    const std::string bars = compare_svg({one}, "t <1>");
    EXPECT_EQ(bars.rfind("<?xml", 0), 0u);
    EXPECT_NE(bars.find("<svg"), std::string::npos);
    EXPECT_NE(bars.find("t &lt;1&gt;"), std::string::npos);
    EXPECT_EQ(bars.find("</svg>\n"), bars.size() - 7);
    EXPECT_NE(bars.find(">shm<"), std::string::npos);
    const auto two = rank({row(figures("shm", 65536, 4900, 4, 0, 0.5, "semop")), row(figures("unix", 65536, 3000, 2, 2, 0.8, "read"))});
    const std::string lines = compare_svg({one, two}, "sweep");
    EXPECT_NE(lines.find("<polyline"), std::string::npos);
    EXPECT_NE(lines.find("64.0 KiB"), std::string::npos);
}

}  // namespace
}  // namespace ipctrace
