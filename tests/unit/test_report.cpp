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
    semop.hist[latency_bucket(1ull << 9)] = 300;  // [512, 1024) ns
    semop.hist[latency_bucket(1ull << 12)] = 100; // [4096, 8192) ns
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

TEST(LatencyBuckets, EveryDurationLiesInItsBucketAndBucketsAreAnEighthOfTheirStart) {
    for (uint64_t ns : {0ull, 1ull, 2ull, 63ull, 64ull, 71ull, 72ull, 127ull, 128ull, 1000ull, 62'800ull, 999'999ull, 1ull << 39}) {
        const unsigned b = latency_bucket(ns);
        ASSERT_LT(b, static_cast<unsigned>(IPC_HIST_BUCKETS));
        EXPECT_LE(ipc_hist_lower_ns(b), ns) << ns;
        EXPECT_GT(ipc_hist_lower_ns(b + 1), ns) << ns;
        EXPECT_EQ(ipc_hist_slot(b), ipc_log2(ns)) << "the log2 view of " << ns;
    }
    for (unsigned b = IPC_HIST_FINE_SHIFT; b + 1 < IPC_HIST_BUCKETS; ++b) {
        const uint64_t lo = ipc_hist_lower_ns(b), hi = ipc_hist_lower_ns(b + 1);
        EXPECT_LT(lo, hi);
        EXPECT_LE(static_cast<double>(hi - lo), static_cast<double>(lo) / 8) << "bucket " << b;
        EXPECT_EQ(latency_bucket(lo), b);
        EXPECT_EQ(latency_bucket(hi - 1), b);
    }
    EXPECT_EQ(latency_bucket(~0ull), static_cast<unsigned>(IPC_HIST_BUCKETS - 1));  // longer: the last
}

TEST(Quantile, IsWithinAnEighthOfTheTrueValue) {
    LatencyBuckets h{};
    EXPECT_EQ(quantile_ns(h, 0.5), 0u);
    // The case: a single 62.8 µs shmget, once reported as p50 49.2 µs and p99 65.2 µs.
    h[latency_bucket(62'800)] = 1;
    EXPECT_NEAR(static_cast<double>(quantile_ns(h, 0.5)), 62'800.0, 62'800.0 / 8);
    EXPECT_NEAR(static_cast<double>(quantile_ns(h, 0.99)), 62'800.0, 62'800.0 / 8);
    // 90 calls of 1 µs and 10 of 1 ms: p50 near 1 µs, p99 near 1 ms.
    h = {};
    h[latency_bucket(1'000)] = 90;
    h[latency_bucket(1'000'000)] = 10;
    EXPECT_NEAR(static_cast<double>(quantile_ns(h, 0.5)), 1'000.0, 1'000.0 / 8);
    EXPECT_NEAR(static_cast<double>(quantile_ns(h, 0.99)), 1'000'000.0, 1'000'000.0 / 8);
    const Log2Slots slots = log2_slots(h);
    EXPECT_EQ(slots[9], 90u);   // [512, 1024)
    EXPECT_EQ(slots[19], 10u);  // [524288, 1048576)
}

TEST(BuildReport, SumsProcessesIntoMechanisms) {
    const Report r = build_report(two_processes());
    ASSERT_EQ(r.processes.size(), 2u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).calls.count, 800u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).calls.errors, 2u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_SEM).syscalls.at(*syscall_number("semop")).hist[latency_bucket(1ull << 9)], 600u);
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
