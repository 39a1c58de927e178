#include <gtest/gtest.h>

#include "common/mechanisms.h"
#include "model/report.h"
#include "render/report_json.h"
#include "render/report_text.h"

namespace ipctrace {
namespace {

Snapshot two_processes() {
    Snapshot s;
    CallStats semop;
    semop.count = 400;
    semop.errors = 1;
    semop.total_ns = 400000;
    semop.hist[ipc_hist_slot_of(600)] = 300;   // [576, 640) ns
    semop.hist[ipc_hist_slot_of(5000)] = 100;  // [4608, 5120) ns
    s.calls[{100, MECH_SYSV_SEM, *syscall_number("semop")}] = semop;
    s.calls[{101, MECH_SYSV_SEM, *syscall_number("semop")}] = semop;
    CallStats msgsnd;
    msgsnd.count = 10;
    msgsnd.bytes_in = 10240;
    s.calls[{100, MECH_SYSV_MSG, *syscall_number("msgsnd")}] = msgsnd;
    CallStats write;
    write.count = 3;
    write.bytes_in = 30;
    s.calls[{100, MECH_FILE, *syscall_number("write")}] = write;
    s.proc_mech[{100, MECH_SYSV_SHM}] = ProcMechStats{64, 0, 0, 0, 0, 0};
    s.proc_mech[{101, MECH_SYSV_SEM}] = ProcMechStats{0, 0, 380, 7, 0, 0};
    s.proc_mech[{101, MECH_NONE}] = ProcMechStats{12, 3, 1, 2, 0, 0};
    s.procs[100] = ProcInfo{1, true, "producer"};
    s.procs[101] = ProcInfo{100, false, "consumer"};
    s.drops[DROP_STATS_FULL] = 2;
    s.drops[DROP_FAULT_UNRESOLVED] = 5;
    return s;
}

TEST(Quantile, MidpointOfTheBucketOfTheRank) {
    Histogram h{};
    EXPECT_EQ(quantile_ns(h, 0.5), 0u);
    h[ipc_hist_slot_of(1100)] = 100;  // all in [1024, 1152)
    const QuantileEstimate p50 = quantile(h, 0.5);
    EXPECT_EQ(p50.lo_ns, 1024u);
    EXPECT_EQ(p50.hi_ns, 1152u);
    EXPECT_EQ(p50.ns, 1088u);
    EXPECT_EQ(quantile_ns(h, 1.0), 1088u);
    h[ipc_hist_slot_of(1u << 20)] = 1;  // the 101st call
    EXPECT_EQ(quantile_ns(h, 0.99), 1088u);
    EXPECT_GE(quantile_ns(h, 1.0), 1u << 20);
    h = {};
    h[0] = 1;  // [0, 8)
    EXPECT_EQ(quantile_ns(h, 0.5), 4u);
}

TEST(Quantile, BucketsAreLogLinearWithinAnEighth) {
    // Every bucket from 8 ns to 2^32 ns is at most 1/8 of its lower bound wide; all are
    // contiguous and hold their values.
    for (unsigned slot = 0; slot + 1 < IPC_HIST_SLOTS; ++slot) {
        const uint64_t lo = hist_lo_ns(slot), hi = hist_hi_ns(slot);
        ASSERT_LT(lo, hi) << slot;
        if (lo >= 8 && lo < (1ull << 32)) {
            EXPECT_LE((hi - lo) * 8, lo) << slot;
        }
        EXPECT_EQ(ipc_hist_slot_of(lo), slot);
        EXPECT_EQ(ipc_hist_slot_of(hi - 1), slot);
        EXPECT_EQ(ipc_hist_log2_slot(slot), lo == 0 ? 0u : static_cast<unsigned>(63 - __builtin_clzll(lo)));
    }
    EXPECT_EQ(ipc_hist_slot_of(~0ull), static_cast<unsigned>(IPC_HIST_SLOTS - 1));
    Histogram h{};
    h[ipc_hist_slot_of(62'800)] = 1;  // the single 62.8 µs shmget
    EXPECT_NEAR(static_cast<double>(quantile_ns(h, 0.5)), 62'800.0, 62'800.0 * 0.0625);
    EXPECT_EQ(log2_histogram(h)[15], 1u);  // [32768, 65536)
}

TEST(BuildReport, SumsProcessesIntoMechanisms) {
    const Report r = build_report(two_processes());
    ASSERT_EQ(r.processes.size(), 2u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).calls.count, 800u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).calls.errors, 2u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).syscalls.at(*syscall_number("semop")).hist[ipc_hist_slot_of(600)], 600u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).events.voluntary_switches, 380u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SHM).events.page_faults, 64u);
    EXPECT_EQ(r.processes[0].info.comm, "producer");
    EXPECT_EQ(r.lost_events(), 2u);  // an unresolved fault is still counted, not lost
}

TEST(ReportJson, HasTheDocumentedShape) {
    Report r = build_report(two_processes());
    const auto doc = report_to_json(r);
    EXPECT_EQ(doc["schema_version"], kSchemaVersion);
    EXPECT_EQ(doc["tool"]["name"], "ipctrace");
    EXPECT_EQ(doc["mode"], "run");
    const auto& sem = doc["mechanisms"]["sysv_sem"];
    EXPECT_EQ(sem["syscall_count"], 800);
    EXPECT_EQ(sem["syscalls"]["semop"]["count"], 800);
    EXPECT_EQ(sem["syscalls"]["semop"]["errors"], 2);
    EXPECT_EQ(sem["syscalls"]["semop"]["latency_log2_ns"].size(), 13u);  // trimmed after the last used slot
    EXPECT_EQ(sem["context_switches"]["voluntary"], 380);
    EXPECT_EQ(doc["mechanisms"]["sysv_msg"]["bytes_to_kernel"], 10240);
    EXPECT_FALSE(doc["mechanisms"].contains("file"));  // regular files are reported apart
    EXPECT_FALSE(doc["mechanisms"].contains("other"));
    EXPECT_EQ(doc["file_io"]["bytes_to_kernel"], 30);
    EXPECT_EQ(doc["page_faults"]["total"], 76);
    EXPECT_EQ(doc["page_faults"]["by_mechanism"]["sysv_shm"], 64);
    EXPECT_EQ(doc["page_faults"]["other"], 12);
    EXPECT_EQ(doc["page_faults"]["copy_faults"], 3);
    EXPECT_EQ(doc["context_switches"]["outside_ipc"]["involuntary"], 2);
    EXPECT_EQ(doc["lost_events"], 2);
    EXPECT_EQ(doc["drops"]["fault_unresolved"], 5);
    ASSERT_EQ(doc["processes"].size(), 2u);
    EXPECT_EQ(doc["processes"][1]["comm"], "consumer");
    EXPECT_EQ(doc["processes"][1]["ppid"], 100);
    EXPECT_EQ(doc["processes"][0]["mechanisms"]["sysv_msg"]["syscalls"]["msgsnd"]["count"], 10);

    r.include_file_io = true;
    EXPECT_TRUE(report_to_json(r)["mechanisms"].contains("file"));
}

TEST(ReportText, ShowsRowsAndLostEvents) {
    const std::string text = report_to_text(build_report(two_processes()));
    EXPECT_NE(text.find("sysv_sem"), std::string::npos);
    EXPECT_NE(text.find("semop"), std::string::npos);
    EXPECT_NE(text.find("Lost events: 2"), std::string::npos);
    EXPECT_NE(text.find("Regular-file I/O (not counted as IPC): 3 calls"), std::string::npos);
}

TEST(FormatNs, Units) {
    EXPECT_EQ(format_ns(87), "87 ns");
    EXPECT_EQ(format_ns(4120), "4.1 us");
    EXPECT_EQ(format_ns(2.5e6), "2.50 ms");
    EXPECT_EQ(format_ns(1.234e9), "1.23 s");
}

}  // namespace
}  // namespace ipctrace
