// Issue 4: a small real comparison, traced, with the copy figures that explain it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

TEST(Compare, ShmAgainstUnixAtTwoSizes) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string svg = "/tmp/ipctrace-compare-test.svg";
    const CommandResult r = run({ipctrace_bin(), "compare", "shm", "unix", "--sizes", "256,64K", "--bytes", "8M", "--repeat", "1",
                                 "--json", "--svg", svg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.out.substr(0, 300);
    EXPECT_EQ(doc["mode"], "compare");
    ASSERT_EQ(doc["results"].size(), 2u);
    for (const auto& result : doc["results"]) {
        ASSERT_EQ(result["rows"].size(), 2u);
        for (const auto& row : result["rows"]) {
            const double copies = row["copies_per_payload_byte"].get<double>();
            if (row["workload"] == "shm") {
                EXPECT_EQ(copies, 0.0);
            } else {  // unix: every payload byte goes into the kernel and out again
                EXPECT_GE(copies, 2.0 - 1e-9);
            }
            EXPECT_TRUE(row["ok"].get<bool>());
            EXPECT_GT(row["throughput_mib_s"].get<double>(), 0);
        }
        EXPECT_FALSE(result["verdict"].empty());
    }
    EXPECT_EQ(doc["runs"].size(), 4u);  // 2 workloads x 2 sizes x 1 repeat, each a full report
    EXPECT_EQ(doc["runs"][0]["mode"], "run");

    // A well-formed SVG, as an XML parser sees it.
    const CommandResult lint = run({"xmllint", "--noout", svg});
    EXPECT_EQ(lint.exit_code, 0) << lint.err;
    std::ifstream in(svg);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("<polyline"), std::string::npos);
    unlink(svg.c_str());
}

// Issue 14: the budget's parts, each timed on its own by the probes, add up to the traced
// run's measured time per message within 10 %, for real workloads of every kind of wait, in a
// stream and in ping-pong; and the on-CPU parts agree with the roles' own rusage.
void expect_budgets_add_up(const std::vector<std::string>& args, size_t rows_expected) {
    std::vector<std::string> argv = {ipctrace_bin(), "compare"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--repeat", "1", "--json"}) argv.push_back(a);
    const CommandResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.out.substr(0, 300);
    const auto& rows = doc["results"][0]["rows"];
    ASSERT_EQ(rows.size(), rows_expected);
    for (const auto& row : rows) {
        const std::string name = row["workload"];
        ASSERT_TRUE(row.contains("budget")) << name;
        const json& b = row["budget"];
        EXPECT_EQ(b["roles"], 2) << name;
        double parts = 0, on_cpu = 0;
        for (const auto& [part, ns] : b["parts"].items()) {
            parts += ns.get<double>();
            if (part != "off_cpu_in_calls_ns" && part != "off_cpu_outside_calls_ns") on_cpu += ns.get<double>();
        }
        const double role = b["role_ns"].get<double>();
        ASSERT_GT(role, 0) << name;
        EXPECT_NEAR(parts, role, 0.10 * role) << name << ": the parts " << parts << " ns against " << role << " ns measured";
        EXPECT_NEAR(b["unexplained_ns"].get<double>(), role - parts, 1e-6 * role) << name;
        EXPECT_LE(b["error"].get<double>(), 0.10) << name;
        // rusage covers each role's whole life (fork, setup, the wait for the start, exit), the
        // budget only from its first traced event on: a loose check that the on-CPU parts are real.
        const double rusage = b["rusage_cpu_ns"].get<double>();
        EXPECT_NEAR(on_cpu, rusage, 0.35 * rusage) << name << ": on CPU " << on_cpu << " ns, rusage " << rusage << " ns";
        EXPECT_GT(row["traced_messages_per_s"].get<double>(), 0) << name;
        EXPECT_GT(row["cpu_s_per_million_messages"].get<double>(), 0) << name;
        std::fprintf(stderr, "budget %-14s %s: role %.0f ns, parts %.0f ns, error %.1f %%\n", name.c_str(),
                     doc["settings"]["mode"] == "pingpong" ? "ping-pong" : "stream", role, parts, 100 * b["error"].get<double>());
    }
}

TEST(Compare, BudgetAddsUpToTheMeasuredTimeStream) {
    IPCTRACE_REQUIRE_ROOT();
    expect_budgets_add_up({"shm:sem", "posix-shm:futex", "posix-shm:spin", "pipe", "unix", "msgq", "--size", "4K", "--bytes", "64M"}, 6);
}

TEST(Compare, BudgetAddsUpPerRoundTripInPingPong) {
    IPCTRACE_REQUIRE_ROOT();
    expect_budgets_add_up({"shm:sem", "pipe", "tcp", "--size", "64", "--count", "3000", "--mode", "pingpong"}, 3);
    // RTT from the workloads' own clocks, and ranked by it.
    const CommandResult r = run({ipctrace_bin(), "compare", "pipe", "unix", "--size", "64", "--count", "2000", "--mode", "pingpong",
                                 "--repeat", "1", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out);
    const auto& rows = doc["results"][0]["rows"];
    ASSERT_EQ(rows.size(), 2u);
    for (const auto& row : rows) EXPECT_GT(row["rtt"]["p50_ns"].get<double>(), 0);
    EXPECT_LE(rows[0]["rtt"]["p50_ns"].get<double>(), rows[1]["rtt"]["p50_ns"].get<double>());
}

// Issue 17: not on a terminal, one plain line per run on stderr; on one, a single line
// rewritten in place with done/total, elapsed and ETA.
TEST(Compare, ProgressPlainLinesOffATerminalOneLineOnIt) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult plain = run({ipctrace_bin(), "compare", "pipe", "unix", "--count", "200", "--repeat", "1"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_NE(plain.err.find("ipctrace compare: pipe, 4.0 KiB x 200, run 1/1, untraced\n"), std::string::npos) << plain.err;
    EXPECT_NE(plain.err.find("ipctrace compare: unix, 4.0 KiB x 200, run 1/1, traced\n"), std::string::npos) << plain.err;
    EXPECT_EQ(plain.err.find('\r'), std::string::npos);
    // script(1) gives the command a pseudo-terminal; its output is what the terminal saw.
    const std::string cmd = ipctrace_bin() + " compare pipe unix --count 200 --repeat 1 -o /dev/null";
    const CommandResult tty = run({"script", "-qefc", cmd, "/dev/null"});
    ASSERT_EQ(tty.exit_code, 0) << tty.out;
    EXPECT_NE(tty.out.find("\r\033[Kipctrace compare: [0/6] "), std::string::npos) << tty.out;
    EXPECT_NE(tty.out.find("[5/6] "), std::string::npos) << tty.out;
    EXPECT_NE(tty.out.find(" elapsed, ETA "), std::string::npos) << tty.out;
    EXPECT_EQ(tty.out.find("run 1/1, traced\n"), std::string::npos) << "no plain lines on a terminal";
}

TEST(Compare, BadInput) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"compare", "sem"},
                                                                    {"compare", "nosuch"},
                                                                    {"compare", "--size", "4K", "--sizes", "1K,2K"},
                                                                    {"compare", "--bytes", "1M", "--count", "10"},
                                                                    {"compare", "msgq", "--size", "1M"},
                                                                    {"compare", "--repeat", "0"},
                                                                    {"compare", "shm:nosuch"},
                                                                    {"compare", "pipe:sem"},
                                                                    {"compare", "nosuch:sem"}}) {
        std::vector<std::string> argv = {ipctrace_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

}  // namespace
}  // namespace ipctrace::testing
