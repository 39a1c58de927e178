// Issue 8: the per-process kernel tables under load. A fork storm larger than --max-procs is
// reported as lost (never a silent undercount) while every process that was followed keeps
// exact figures; exited processes leave the kernel maps, so a long trace with churn never
// fills them, and their figures still add up. The oracle is fork_storm: each child makes
// exactly the pipe writes it was told to.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "schema_check.h"
#include "subprocess.h"
#include "temp_path.h"
#include "trace_background.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::set<long> read_pids(const std::string& text) {
    std::set<long> pids;
    std::istringstream in(text);
    for (long pid; in >> pid;) pids.insert(pid);
    return pids;
}

unsigned long u(const json& j, const json::json_pointer& at) { return j.contains(at) ? j[at].get<unsigned long>() : 0; }

const json::json_pointer kWritesAt("/mechanisms/pipe/syscalls/write/count");
const json::json_pointer kBytesInAt("/mechanisms/pipe/bytes_to_kernel");

constexpr long kStormChildren = 100, kStormWrites = 20, kStormSize = 64;
constexpr unsigned kMaxProcs = 32;

// How many of the fork_storm `children` the report has; each must have exactly its writes.
size_t storm_children_in(const json& doc, const std::set<long>& children) {
    size_t in_report = 0;
    for (const auto& p : doc["processes"]) {
        if (!children.count(p["pid"].get<long>())) continue;
        ++in_report;
        EXPECT_EQ(u(p, kWritesAt), static_cast<unsigned long>(kStormWrites)) << p.dump();
        EXPECT_EQ(u(p, kBytesInAt), static_cast<unsigned long>(kStormWrites * kStormSize)) << p.dump();
    }
    return in_report;
}

// More children alive at once than --max-procs: each one either followed, with its exact
// figures, or counted as not followed.
TEST(ForkStorm, EveryChildIsFollowedExactlyOrCountedAsNotFollowed) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath out("storm"), pidfile("storm-pids");
    const CommandResult r = run({ipctrace_bin(), "trace", "--max-procs", std::to_string(kMaxProcs), "--json", "-o", out.str(), "--",
                                 FORK_STORM_BIN, std::to_string(kStormChildren), std::to_string(kStormWrites),
                                 std::to_string(kStormSize), pidfile.str()});
    ASSERT_EQ(r.exit_code, 0) << "the command's status, as without drops: " << r.err;
    const json doc = parse(out.read());
    const std::set<long> children = read_pids(pidfile.read());
    ASSERT_EQ(children.size(), static_cast<size_t>(kStormChildren));

    const size_t followed = storm_children_in(doc, children);
    const unsigned long not_followed = doc["drops"]["targets_full"];
    EXPECT_GT(not_followed, 0u) << "the storm is larger than --max-procs";
    EXPECT_GT(followed, 0u);
    EXPECT_EQ(followed + not_followed, static_cast<size_t>(kStormChildren)) << "each child followed or counted as lost";
    EXPECT_LE(followed, kMaxProcs - 1) << "the table holds the command and at most max-procs - 1 children";
    EXPECT_GE(doc["lost_events"].get<unsigned long>(), not_followed);
    // The totals are exactly those of the followed children (the parent writes no pipe).
    EXPECT_EQ(u(doc, kBytesInAt), followed * kStormWrites * kStormSize);
    EXPECT_EQ(doc["trace"]["max_procs"], kMaxProcs);
    EXPECT_EQ(doc["trace"]["kernel_maps"]["targets"]["max_entries"], kMaxProcs);
    EXPECT_EQ(doc["trace"]["kernel_maps"]["procs"]["max_entries"], kMaxProcs);
    const SchemaVerdict v = validate_file(out.str());
    EXPECT_TRUE(v.valid) << v.message;
}

TEST(ForkStorm, TheTextReportSaysHowManyWereNotFollowed) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath out("storm-text");
    const CommandResult r = run({ipctrace_bin(), "trace", "--max-procs", std::to_string(kMaxProcs), "-o", out.str(), "--",
                                 FORK_STORM_BIN, std::to_string(kStormChildren), std::to_string(kStormWrites),
                                 std::to_string(kStormSize)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = out.read();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(Not followed: (\d+) forked processes, the table of traced processes was full \(--max-procs 32\): raise --max-procs\.)")))
        << text;
    const unsigned long not_followed = std::stoul(m[1]);
    EXPECT_GT(not_followed, 0u);
    ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(Lost events: (\d+) \(the counts above are lower bounds\))"))) << text;
    EXPECT_GE(std::stoul(m[1]), not_followed);
}

// --all: the process table full (a fork storm on top of whatever else runs). Children whose
// record could not be kept lose their name, not their figures.
TEST(ForkStorm, AllWithAFullProcessTableKeepsEveryChildsFiguresExact) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath out("storm-all"), pidfile("storm-all-pids");
    Background trace({ipctrace_bin(), "trace", "--all", "--max-procs", std::to_string(kMaxProcs), "--json", "-o", out.str()});
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing all processes", 10s));
    const CommandResult storm = run({FORK_STORM_BIN, "200", std::to_string(kStormWrites), std::to_string(kStormSize), pidfile.str()});
    ASSERT_EQ(storm.exit_code, 0) << storm.err;
    trace.signal(SIGINT);
    const CommandResult r = trace.wait(15s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(out.read());
    const std::set<long> children = read_pids(pidfile.read());
    ASSERT_EQ(children.size(), 200u);
    const size_t seen = storm_children_in(doc, children);
    EXPECT_EQ(seen, children.size()) << "the statistics tables had room: every child is there";
    EXPECT_GT(doc["drops"]["proc_table_full"].get<unsigned long>(), 0u) << "200 children alive at once, a table of 32";
    EXPECT_GT(doc["lost_events"].get<unsigned long>(), 0u);
}

// Exited processes leave the kernel maps: a command tree of many more processes than
// --max-procs, never more than a few alive at once, loses nothing; the figures of those
// reclaimed and folded still add up, interval by interval and in total.
TEST(Reclaim, ExitedProcessesFreeTheirEntriesAndStillAddUp) {
    IPCTRACE_REQUIRE_ROOT();
    constexpr int kRuns = 6, kChildren = 12, kWrites = 50, kSize = 64;
    TempPath out("reclaim");
    std::string runs;  // literal, not $(seq): no process whose pipe write would mix in
    for (int i = 1; i <= kRuns; ++i) runs += " " + std::to_string(i);
    const std::string loop = "for i in" + runs + "; do " + FORK_STORM_BIN + " " + std::to_string(kChildren) +
                             " " + std::to_string(kWrites) + " " + std::to_string(kSize) + "; sleep 2.5; done";
    const CommandResult r = run({ipctrace_bin(), "trace", "--max-procs", "40", "--keep-exited", "20", "-i", "0.5", "--json", "-o",
                                 out.str(), "--", "sh", "-c", loop});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> lines;
    std::istringstream in(out.read());
    for (std::string line; std::getline(in, line);) lines.push_back(parse(line));
    ASSERT_GE(lines.size(), 10u);
    const json& final = lines.back();
    ASSERT_EQ(final["mode"], "trace");

    // sh, and per run: fork_storm, its children, sleep.
    const unsigned long processes = 1 + kRuns * (1 + kChildren + 1);
    EXPECT_EQ(final["trace"]["processes_traced"], processes);
    EXPECT_EQ(final["lost_events"], 0u) << "reclaimed entries make room: " << final["drops"].dump();
    EXPECT_GT(final["trace"]["processes_folded"].get<unsigned long>(), 0u) << "more exited processes than --keep-exited 20";

    unsigned long storm_writes = 0, rows = 0, folded = 0;
    for (const auto& p : final["processes"]) {
        const unsigned long n = p.value("folded", 0ul);
        rows += n ? n : 1;
        folded += n;
        if (n) {
            EXPECT_EQ(p["pid"], 0);
            EXPECT_TRUE(p["exited"].get<bool>());
        }
        if (p["comm"] == "fork_storm") storm_writes += u(p, kWritesAt);
    }
    EXPECT_EQ(folded, final["trace"]["processes_folded"].get<unsigned long>());
    EXPECT_LE(rows, processes) << "a folded row counts its processes once";
    EXPECT_EQ(storm_writes, static_cast<unsigned long>(kRuns * kChildren * kWrites)) << "every child's writes, folded or not";
    EXPECT_EQ(u(final, kBytesInAt), static_cast<unsigned long>(kRuns * kChildren * kWrites * kSize));

    unsigned long interval_writes = 0, max_procs_entries = 0;
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
        interval_writes += u(lines[i], kWritesAt);
        max_procs_entries = std::max(max_procs_entries, lines[i]["interval"]["kernel_maps"]["procs"]["entries"].get<unsigned long>());
        EXPECT_EQ(lines[i]["interval"]["kernel_maps"]["procs"]["max_entries"], 40u);
    }
    EXPECT_EQ(interval_writes, u(final, kWritesAt)) << "the intervals add up to the whole trace";
    EXPECT_LE(max_procs_entries, 40u);
    EXPECT_LT(max_procs_entries, processes / 2) << "exited processes left the procs map";
    const SchemaVerdict v = validate_file(out.str(), /*ndjson=*/true);
    EXPECT_TRUE(v.valid) << "folded rows and kernel_maps, line by line: " << v.message;
}

}  // namespace
}  // namespace ipctrace::testing
