// Issue 2: the SysV workloads under the real probes, against their own counts, strace,
// getrusage, and `ipcs` afterwards.
#include <gtest/gtest.h>

#include "subprocess.h"
#include "workload_check.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

class SysvWorkload : public ::testing::TestWithParam<WorkloadCase> {};

TEST_P(SysvWorkload, TracedCountsEqualTheWorkloadsOwnAndStrace) {
    IPCTRACE_REQUIRE_ROOT();
    const WorkloadCase& c = GetParam();
    const auto ids_before = sysv_ids();

    const json report = run_traced(c);
    ASSERT_TRUE(report.contains("workload"));
    EXPECT_TRUE(report["workload"]["verified"].get<bool>());
    EXPECT_EQ(report["lost_events"].get<unsigned long>(), 0u);
    expect_mechanisms(report, c.mechanisms);
    expect_traced_equals_workload(report);

    // strace on the untraced run of the same workload sees the same SysV calls. SysV call
    // counts do not depend on timing, so the two runs agree call for call.
    const auto traced = traced_calls(report);
    std::set<std::string> names;
    for (const auto& [name, n] : traced) names.insert(name);
    const StraceRun st = run_under_strace(c, names);
    for (const auto& [name, n] : traced) EXPECT_EQ(st.calls.count(name) ? st.calls.at(name) : 0, n) << "strace vs traced " << name;

    EXPECT_EQ(sysv_ids(), ids_before) << "a SysV object was left behind";
}

TEST(SysvMsgq, BytesEqualCountTimesSizeInBothDirections) {
    IPCTRACE_REQUIRE_ROOT();
    for (const char* size : {"16", "4000"}) {
        const json report = run_traced({"msgq", {"--count", "3000", "--size", size}, {"sysv_msg"}});
        const unsigned long expected = 3000ul * std::stoul(size);
        const json& msg = report["mechanisms"]["sysv_msg"];
        EXPECT_EQ(msg["bytes_to_kernel"].get<unsigned long>(), expected) << "size " << size;
        EXPECT_EQ(msg["bytes_from_kernel"].get<unsigned long>(), expected) << "size " << size;
        EXPECT_EQ(msg["syscalls"]["msgsnd"]["bytes_to_kernel"].get<unsigned long>(), expected);
        EXPECT_EQ(msg["syscalls"]["msgrcv"]["bytes_from_kernel"].get<unsigned long>(), expected);
    }
}

TEST(SysvShm, SegmentFaultsAtLeastThePagesTouchedAndNoCopies) {
    IPCTRACE_REQUIRE_ROOT();
    for (unsigned long size : {4096ul, 65536ul})
    for (const bool spsc : {false, true}) {
        const json report = spsc ? run_traced({"shm", {"--count", "2000", "--size", std::to_string(size)}, {"sysv_shm"}})
                                 : run_traced({"shm", {"--count", "2000", "--size", std::to_string(size), "--sync", "sem"}, {"sysv_shm", "sysv_sem"}});
        // The ring: --sync ring max(256 KiB / size, 8 while 8 fit 1 MiB) slots, sem min(8, 64 MiB / size);
        // with 2000 messages every slot is written.
        const unsigned long slots = spsc ? std::max(size * 8 <= (1ul << 20) ? 8ul : 2ul, (256ul << 10) / size) : std::min(8ul, std::max(1ul, (64ul << 20) / size));
        const unsigned long pages = (slots * size + 4095) / 4096;
        EXPECT_GE(report["mechanisms"]["sysv_shm"]["page_faults"].get<unsigned long>(), pages) << "size " << size;
        EXPECT_EQ(report["page_faults"]["by_mechanism"]["sysv_shm"], report["mechanisms"]["sysv_shm"]["page_faults"]);
        // Shared memory moves the payload without a syscall copy.
        for (const auto& [mech, m] : report["mechanisms"].items()) {
            EXPECT_EQ(m["bytes_to_kernel"].get<unsigned long>(), 0u) << mech;
            EXPECT_EQ(m["bytes_from_kernel"].get<unsigned long>(), 0u) << mech;
        }
    }
}

TEST(SysvSem, ContextSwitchesAgreeWithGetrusage) {
    IPCTRACE_REQUIRE_ROOT();
    const json report = run_traced({"sem", {"--count", "5000"}, {"sysv_sem"}});
    const unsigned long nvcsw = report["workload"]["rusage"]["nvcsw"].get<unsigned long>();
    const unsigned long traced = report["context_switches"]["voluntary"].get<unsigned long>();
    // Each round trip blocks both sides in semop: thousands of voluntary switches, nearly all
    // inside sysv_sem calls. getrusage also counts the few before tracing began.
    EXPECT_GE(nvcsw, 1000u);
    EXPECT_LE(traced, nvcsw);
    EXPECT_GE(traced + 20, nvcsw * 95 / 100) << "traced " << traced << " vs rusage " << nvcsw;
    const unsigned long in_sem = report["mechanisms"]["sysv_sem"]["context_switches"]["voluntary"].get<unsigned long>();
    EXPECT_GE(in_sem, traced * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, SysvWorkload,
    // shm with the classic SysV semaphore pairing (--sync sem): its calls do not depend on
    // timing. The default ring's futex calls do: tests/bpf/test_ring.cpp.
    ::testing::Values(WorkloadCase{"shm", {"--count", "3000", "--size", "64", "--sync", "sem"}, {"sysv_shm", "sysv_sem"}},
                      WorkloadCase{"shm", {"--count", "2000", "--size", "64K", "--sync", "sem"}, {"sysv_shm", "sysv_sem"}},
                      WorkloadCase{"shm", {"--count", "2000", "--size", "1K", "--mode", "pingpong", "--sync", "sem"}, {"sysv_shm", "sysv_sem"}},
                      WorkloadCase{"sem", {"--count", "3000"}, {"sysv_sem"}},
                      WorkloadCase{"msgq", {"--count", "3000", "--size", "16"}, {"sysv_msg"}},
                      WorkloadCase{"msgq", {"--count", "2000", "--size", "4000"}, {"sysv_msg"}},
                      WorkloadCase{"msgq", {"--count", "2000", "--size", "256", "--mode", "pingpong"}, {"sysv_msg"}}),
    [](const ::testing::TestParamInfo<WorkloadCase>& info) { return info.param.name(); });

}  // namespace
}  // namespace ipctrace::testing
