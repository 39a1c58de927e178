// The trace report without probes: interval diffs, --comm, --top, the text matrix and the JSON.
#include <gtest/gtest.h>

#include "common/mechanisms.h"
#include "common/snapshot_diff.h"
#include "render/trace_json.h"
#include "model/trace_report.h"
#include "render/trace_text.h"

namespace ipctrace {
namespace {

CallStats calls(uint64_t count, uint64_t in, uint64_t out, unsigned slot = 10) {
    CallStats c;
    c.count = count;
    c.bytes_in = in;
    c.bytes_out = out;
    c.total_ns = count * 1000;
    c.hist[latency_bucket(1ull << slot)] = count;
    return c;
}

// dd writes a pipe, cat reads it, sh waits; cat has exited.
Snapshot pipeline(uint64_t blocks) {
    Snapshot s;
    const unsigned read = *syscall_number("read"), write = *syscall_number("write");
    s.calls[{11, MECH_PIPE, write}] = calls(blocks, blocks * 4096, 0);
    s.calls[{12, MECH_PIPE, read}] = calls(blocks + 1, 0, blocks * 4096);
    s.calls[{12, MECH_FILE, write}] = calls(5, 500, 0);
    s.proc_mech[{12, MECH_PIPE}] = ProcMechStats{0, 0, blocks / 2, 1, 0, 0};
    s.proc_mech[{10, MECH_NONE}] = ProcMechStats{30, 0, 2, 0, 0, 0};
    s.procs[10] = ProcInfo{1, false, "sh"};
    s.procs[11] = ProcInfo{10, false, "dd"};
    s.procs[12] = ProcInfo{10, true, "cat"};
    s.drops[DROP_INFLIGHT_FULL] = blocks / 100;
    return s;
}

TEST(SnapshotDiff, SubtractsEveryCounterAndDropsIdleEntries) {
    const Snapshot before = pipeline(100), after = pipeline(300);
    Snapshot d = snapshot_diff(after, before);
    const unsigned write = *syscall_number("write");
    ASSERT_EQ(d.calls.count({11, MECH_PIPE, write}), 1u);
    const CallStats& w = d.calls.at({11, MECH_PIPE, write});
    EXPECT_EQ(w.count, 200u);
    EXPECT_EQ(w.bytes_in, 200u * 4096);
    EXPECT_EQ(w.total_ns, 200000u);
    EXPECT_EQ(w.hist[latency_bucket(1ull << 10)], 200u);
    EXPECT_EQ(d.calls.count({12, MECH_FILE, write}), 0u) << "unchanged: not in the interval";
    EXPECT_EQ(d.proc_mech.at({12, MECH_PIPE}).voluntary_switches, 100u);
    EXPECT_EQ(d.proc_mech.count({10, MECH_NONE}), 0u);
    EXPECT_EQ(d.drops[DROP_INFLIGHT_FULL], 2u);
    EXPECT_EQ(d.procs.count(10), 0u) << "sh did nothing in the interval";
    EXPECT_EQ(d.procs.at(12).comm, "cat");
    // Against nothing, the diff is the snapshot itself.
    EXPECT_EQ(snapshot_diff(after, Snapshot{}).calls.size(), after.calls.size());
}

TEST(SnapshotDiff, FilterByCommKeepsOnlyThoseProcesses) {
    const Snapshot s = filter_by_comm(pipeline(10), "cat");
    for (const auto& [key, c] : s.calls) EXPECT_EQ(std::get<0>(key), 12);
    EXPECT_EQ(s.calls.size(), 2u);
    EXPECT_EQ(s.procs.size(), 1u);
}

TEST(TraceReport, RanksByIpcSyscallsAndCutsToTop) {
    size_t traced = 0;
    TraceReportOptions options;
    options.top = 1;
    const Report r = build_trace_report(pipeline(100), options, traced);
    EXPECT_EQ(r.mode, "trace");
    EXPECT_EQ(traced, 3u);
    ASSERT_EQ(r.processes.size(), 1u);
    EXPECT_EQ(r.processes[0].pid, 12) << "cat: 101 pipe reads (its file writes do not count)";
    // The totals still hold every process.
    EXPECT_EQ(r.mechanisms.at(MECH_PIPE).calls.count, 201u);

    options.top = 0;
    options.include_file_io = true;
    const Report all = build_trace_report(pipeline(100), options, traced);
    ASSERT_EQ(all.processes.size(), 3u);
    EXPECT_EQ(ipc_syscalls(all.processes[0], true), 106u);
    EXPECT_EQ(all.processes[2].pid, 10) << "sh: no IPC, last";
}

TraceReport whole_trace() {
    TraceReport t;
    t.target.kind = TraceTarget::Kind::Command;
    t.target.command = {"sh", "-c", "dd if=/dev/zero bs=4096 count=100 | cat"};
    t.report = build_trace_report(pipeline(100), {}, t.processes_traced);
    t.duration_ns = 1500000000;
    t.reason = StopReason::CommandExited;
    t.command_status = ExitStatus{0, 15};
    return t;
}

TEST(TraceText, HeaderTablesAndOneRowPerProcessAndMechanism) {
    const std::string text = trace_to_text(whole_trace());
    EXPECT_NE(text.find("ipctrace trace: command sh -c 'dd if=/dev/zero bs=4096 count=100 | cat' and its descendants"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("traced 1.50 s, 3 processes; the command was killed by SIGTERM"), std::string::npos) << text;
    EXPECT_NE(text.find("\npipe "), std::string::npos) << "the mechanism table";
    EXPECT_NE(text.find("PID      COMM"), std::string::npos);
    EXPECT_NE(text.find("12       cat              exited  pipe"), std::string::npos) << text;
    EXPECT_NE(text.find("11       dd               running pipe"), std::string::npos) << text;
    EXPECT_EQ(text.find("12       cat              exited  file"), std::string::npos) << "file I/O is not IPC by default";
    EXPECT_NE(text.find("1 more process traced without IPC"), std::string::npos) << text;
}

TEST(TraceJson, ModeTraceWithATraceObjectAfterTraced) {
    const auto doc = trace_to_json(whole_trace());
    EXPECT_EQ(doc["mode"], "trace");
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items()) keys.push_back(k);
    ASSERT_GE(keys.size(), 5u);
    EXPECT_EQ(keys[3], "traced");
    EXPECT_EQ(keys[4], "trace");
    const auto& t = doc["trace"];
    EXPECT_EQ(t["target"]["kind"], "command");
    EXPECT_EQ(t["target"]["command"][2], "dd if=/dev/zero bs=4096 count=100 | cat");
    EXPECT_EQ(t["duration_ns"], 1500000000u);
    EXPECT_EQ(t["stop_reason"], "command_exited");
    EXPECT_EQ(t["command_exit"]["signal"], 15);
    EXPECT_EQ(t["processes_traced"], 3u);
    EXPECT_EQ(doc["mechanisms"]["pipe"]["bytes_to_kernel"], 100u * 4096);
    EXPECT_FALSE(doc["mechanisms"].contains("file"));
}

TEST(TraceJson, IntervalHasItsBounds) {
    TraceReport t = whole_trace();
    t.reason.reset();
    t.command_status.reset();
    t.interval = IntervalBounds{2, 1000000000, 1500000000};
    const auto doc = trace_to_json(t);
    EXPECT_EQ(doc["mode"], "interval");
    EXPECT_EQ(doc["interval"]["index"], 2);
    EXPECT_EQ(doc["interval"]["start_ns"], 1000000000u);
    EXPECT_EQ(doc["interval"]["end_ns"], 1500000000u);
    EXPECT_FALSE(doc.contains("trace"));
    EXPECT_NE(trace_to_text(t).find("ipctrace trace: interval 3, 1.00 s to 1.50 s"), std::string::npos);
}

}  // namespace
}  // namespace ipctrace
