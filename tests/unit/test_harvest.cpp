// Map reclaim without probes: retiring exited processes from the kernel's figures into user
// space, folding the oldest past --keep-exited, and interval diffs that still add up.
#include <gtest/gtest.h>

#include "common/retired_store.h"
#include "common/mechanisms.h"
#include "schema_check.h"
#include "common/snapshot_diff.h"
#include "render/trace_json.h"
#include "model/trace_report.h"
#include "render/trace_text.h"

namespace ipctrace {
namespace {

const unsigned kWrite = *syscall_number("write");

CallStats writes(uint64_t n) {
    CallStats c;
    c.count = n;
    c.bytes_in = n * 10;
    c.total_ns = n * 100;
    c.hist[latency_bucket(1ull << 6)] = n;
    return c;
}

// What the kernel maps would hold: pid -> writes so far, comm, exited.
Snapshot kernel(const std::map<pid_t, std::tuple<uint64_t, std::string, bool>>& procs) {
    Snapshot s;
    for (const auto& [pid, p] : procs) {
        const auto& [n, comm, exited] = p;
        s.calls[{pid, MECH_PIPE, kWrite}] = writes(n);
        s.proc_mech[{pid, MECH_PIPE}] = ProcMechStats{0, 0, n, 1, 0, 0};
        s.objects[{pid, MECH_PIPE, 77}] = ObjectStats{n, n * 10, 0};
        s.procs[pid] = ProcInfo{1, exited, comm};
    }
    return s;
}

uint64_t total_writes(const Snapshot& s) {
    uint64_t n = 0;
    for (const auto& [key, c] : s.calls) n += c.count;
    return n;
}

uint64_t total_switches(const Snapshot& s) {
    uint64_t n = 0;
    for (const auto& [key, e] : s.proc_mech) n += e.voluntary_switches;
    return n;
}

TEST(RetiredStore, RetiringMovesAProcessOutOfTheKernelFiguresAndMergingPutsItBack) {
    Snapshot live = kernel({{10, {5, "sh", false}}, {11, {7, "cat", true}}});
    const Snapshot before = live;
    RetiredStore store(100);
    store.retire(11, live);
    EXPECT_EQ(live.calls.size(), 1u) << "the kernel's entries of 11 are to be deleted";
    EXPECT_FALSE(live.procs.count(11));
    EXPECT_TRUE(live.objects.count({10, MECH_PIPE, 77}));
    EXPECT_FALSE(live.objects.count({11, MECH_PIPE, 77}));
    const Snapshot merged = store.merged(live);
    EXPECT_EQ(merged.calls.size(), before.calls.size());
    EXPECT_EQ(merged.calls.at({11, MECH_PIPE, kWrite}).count, 7u);
    EXPECT_EQ(merged.objects.at({11, MECH_PIPE, 77}).calls, 7u) << "kept rows stay nodes of the map";
    EXPECT_TRUE(merged.procs.at(11).exited);
    EXPECT_EQ(merged.procs.at(11).comm, "cat");
    EXPECT_EQ(store.exited_rows(), 1u);
}

TEST(RetiredStore, PastTheCapTheOldestAreFoldedOneRowPerCommand) {
    Snapshot live = kernel({{20, {1, "sh", true}}, {21, {2, "sh", true}}, {22, {4, "cat", true}}, {23, {8, "sh", true}}});
    const uint64_t writes_before = total_writes(live), switches_before = total_switches(live);
    RetiredStore store(1);
    for (pid_t pid : {20, 21, 22, 23}) store.retire(pid, live);
    const std::vector<Fold> folds = store.enforce_cap();
    ASSERT_EQ(folds.size(), 3u) << "one row kept: the newest";
    EXPECT_EQ(folds[0].pid, 20);
    EXPECT_EQ(folds[0].row, folds[1].row) << "both sh";
    EXPECT_NE(folds[0].row, folds[2].row) << "cat has its own";
    EXPECT_LT(folds[0].row, 0);
    EXPECT_EQ(store.folded_processes(), 3u);
    EXPECT_EQ(store.exited_rows(), 1u);

    const Snapshot merged = store.merged(live);
    EXPECT_EQ(total_writes(merged), writes_before) << "folding moves figures, it loses none";
    EXPECT_EQ(total_switches(merged), switches_before);
    const ProcInfo& sh = merged.procs.at(folds[0].row);
    EXPECT_EQ(sh.comm, "sh");
    EXPECT_EQ(sh.folded, 2u);
    EXPECT_TRUE(sh.exited);
    EXPECT_EQ(merged.calls.at({folds[0].row, MECH_PIPE, kWrite}).count, 3u);
    EXPECT_EQ(merged.procs.at(23).folded, 0u);
    EXPECT_FALSE(merged.procs.count(20));
    for (const auto& [key, o] : merged.objects) EXPECT_GE(std::get<0>(key), 0) << "a folded row is no node of the map";

    size_t traced = 0;
    uint64_t folded = 0;
    build_trace_report(merged, {}, traced, &folded);
    EXPECT_EQ(traced, 4u) << "a folded row counts its processes";
    EXPECT_EQ(folded, 3u);
}

TEST(RetiredStore, ManyCommandNamesShareOneRowPastTheLimit) {
    Snapshot live;
    const size_t n = RetiredStore::kMaxFoldRows + 10;
    for (size_t i = 0; i < n; ++i) {
        const pid_t pid = static_cast<pid_t>(1000 + i);
        live.calls[{pid, MECH_PIPE, kWrite}] = writes(1);
        live.procs[pid] = ProcInfo{1, true, "c" + std::to_string(i)};
    }
    RetiredStore store(0);
    for (size_t i = 0; i < n; ++i) store.retire(static_cast<pid_t>(1000 + i), live);
    store.enforce_cap();
    const Snapshot merged = store.merged(live);
    EXPECT_EQ(merged.procs.size(), RetiredStore::kMaxFoldRows + 1);
    uint64_t in_others = 0;
    for (const auto& [pid, info] : merged.procs)
        if (info.comm == "(others)") in_others = info.folded;
    EXPECT_EQ(in_others, 10u);
    EXPECT_EQ(total_writes(merged), n);
}

// What the trace session does: every reading is kernel + retired; folds made since the last
// report rekey it, so the reports add up to the whole trace.
TEST(RetiredStore, IntervalDiffsStillAddUpAcrossRetiringAndFolding) {
    RetiredStore store(1);
    Snapshot k1 = kernel({{30, {10, "a", false}}, {31, {5, "b", true}}});
    const Snapshot r1 = store.merged(k1);
    uint64_t summed = total_writes(snapshot_diff(r1, Snapshot{}));

    // Reading 2: 31 retired (no new events); 30 exits after more writes; 32 starts.
    Snapshot k2 = kernel({{30, {15, "a", true}}, {31, {5, "b", true}}, {32, {3, "b", false}}});
    store.retire(31, k2);
    Snapshot prev = r1;
    apply_folds(prev, store.enforce_cap());
    const Snapshot r2 = store.merged(k2);
    summed += total_writes(snapshot_diff(r2, prev));

    // Reading 3: 30 retired too, folding 31 (the oldest) into row "b"; 32 writes more.
    Snapshot k3 = kernel({{30, {15, "a", true}}, {32, {9, "b", false}}});
    store.retire(30, k3);
    prev = r2;
    const auto folds = store.enforce_cap();
    ASSERT_EQ(folds.size(), 1u);
    EXPECT_EQ(folds[0].pid, 31);
    apply_folds(prev, folds);
    const Snapshot r3 = store.merged(k3);
    const Snapshot d3 = snapshot_diff(r3, prev);
    EXPECT_EQ(total_writes(d3), 6u) << "only 32's new writes: the folded row is not counted again";
    summed += total_writes(d3);
    EXPECT_EQ(summed, total_writes(r3));
    EXPECT_EQ(total_writes(r3), 15u + 5 + 9);
}

// A folded row and full tables, as the reports show them.
TEST(TraceReportOfFoldedRows, TextSaysFoldedAndHowManyJsonHasNoPidAndValidates) {
    Snapshot live = kernel({{40, {3, "sh", true}}, {41, {4, "sh", true}}, {42, {5, "cat", false}}});
    RetiredStore store(0);
    store.retire(40, live);
    store.retire(41, live);
    store.enforce_cap();
    Snapshot merged = store.merged(live);
    merged.drops[DROP_TARGETS_FULL] = 69;
    merged.drops[DROP_PROC_FULL] = 1;
    merged.kernel_maps["procs"] = MapOccupancy{1, 32};

    TraceReport t;
    t.target.kind = TraceTarget::Kind::All;
    t.max_procs = 32;
    t.report = build_trace_report(merged, {}, t.processes_traced, &t.processes_folded);
    t.kernel_maps = merged.kernel_maps;
    t.duration_ns = 1000;
    t.reason = StopReason::Duration;
    EXPECT_EQ(t.processes_traced, 3u);
    EXPECT_EQ(t.processes_folded, 2u);

    const std::string text = trace_to_text(t);
    EXPECT_NE(text.find("(2)      sh               folded  pipe"), std::string::npos) << text;
    EXPECT_NE(text.find("42       cat              running pipe"), std::string::npos) << text;
    EXPECT_NE(text.find("2 exited processes are folded into one row per command name"), std::string::npos) << text;
    EXPECT_NE(text.find("Not followed: 69 forked processes, the table of traced processes was full (--max-procs 32): raise --max-procs."),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Not named: 1 process record could not be kept, the process table was full (--max-procs 32)"),
              std::string::npos)
        << text;

    const auto doc = trace_to_json(t);
    EXPECT_EQ(doc["trace"]["processes_folded"], 2u);
    EXPECT_EQ(doc["trace"]["kernel_maps"]["procs"]["max_entries"], 32u);
    EXPECT_EQ(doc["trace"]["kernel_maps"]["targets"]["entries"], 0u) << "every map is there, read or not";
    bool found = false;
    for (const auto& p : doc["processes"]) {
        if (!p.contains("folded")) continue;
        found = true;
        EXPECT_EQ(p["pid"], 0);
        EXPECT_EQ(p["folded"], 2u);
        EXPECT_EQ(p["comm"], "sh");
    }
    EXPECT_TRUE(found) << doc["processes"].dump();
    const auto v = testing::validate_json(doc);
    EXPECT_TRUE(v.valid) << v.message;

    t.reason.reset();
    t.interval = IntervalBounds{0, 0, 1000};
    const auto line = trace_to_json(t);
    EXPECT_TRUE(line["interval"].contains("kernel_maps"));
    const auto vi = testing::validate_json(line);
    EXPECT_TRUE(vi.valid) << vi.message;
}

}  // namespace
}  // namespace ipctrace
