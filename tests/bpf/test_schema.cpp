// Real output of every command validated against docs/schema/ipctrace-report.schema.json
// by Debian's python3-jsonschema: run (traced, ping-pong, --no-trace, --self-cost, file I/O
// as IPC and apart from it), compare, trace (a command, -p, --all) and its NDJSON intervals.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schema_check.h"
#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

// Runs `ipctrace SUBCOMMAND --json -o FILE ARGS…` (before ARGS: a traced command's own
// arguments come after `--`) and validates FILE, one document per line with `ndjson`.
// Returns FILE's documents.
std::vector<nlohmann::json> expect_valid_output(std::vector<std::string> args, bool ndjson = false) {
    TempPath out("schema-test");
    std::vector<std::string> argv{ipctrace_bin(), args.front(), "--json", "-o", out.str()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    std::string cmdline;
    for (const auto& a : argv) cmdline += " " + a;
    const CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << cmdline << "\n" << r.err;
    const SchemaVerdict v = validate_file(out.str(), ndjson);
    EXPECT_TRUE(v.valid) << cmdline << "\n" << v.message;
    std::vector<nlohmann::json> docs;
    std::ifstream in(out.str());
    if (ndjson) {
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) docs.push_back(nlohmann::json::parse(line));
    } else {
        docs.push_back(nlohmann::json::parse(in));
    }
    return docs;
}

TEST(Schema, RunReports) {
    IPCTRACE_REQUIRE_ROOT();
    expect_valid_output({"run", "msgq", "--count", "500"});
    expect_valid_output({"run", "shm", "--count", "500", "--mode", "pingpong"});  // workload.rtt
    expect_valid_output({"run", "pipe", "--count", "500", "--no-trace"});         // traced false
    expect_valid_output({"run", "unix", "--count", "200", "--self-cost"});        // self_cost
    expect_valid_output({"run", "file", "--count", "50"});                        // mechanisms.file
    expect_valid_output({"run", "mmap", "--count", "200"});                       // file_io
    expect_valid_output({"run", "signal", "--count", "100"});                     // signals
    expect_valid_output({"run", "udp", "--count", "200"});                        // workload.datagrams
    expect_valid_output({"run", "udp", "--count", "200", "--mode", "lossy", "--rate", "50k"});  // mode lossy
    expect_valid_output({"run", "shm", "--count", "500", "--sync", "sem"});       // sync sem
    expect_valid_output({"run", "posix-shm", "--count", "500"});                  // sync ring
}

TEST(Schema, CompareReportWithItsRuns) {
    IPCTRACE_REQUIRE_ROOT();
    expect_valid_output({"compare", "pipe", "msgq", "--count", "200", "--repeat", "1"});
    expect_valid_output({"compare", "tcp", "--sizes", "64,4K", "--count", "100", "--repeat", "2", "--mode", "pingpong"});
}

TEST(Schema, TraceReports) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string self = ipctrace_bin();
    // A command, with the communication map of its two roles.
    auto docs = expect_valid_output({"trace", "--", self, "run", "msgq", "--count", "200", "--no-trace"});
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0]["mode"], "trace");
    EXPECT_EQ(docs[0]["trace"]["stop_reason"], "command_exited");
    // System-wide for a duration, with --top and --metrics (which must not change the document).
    expect_valid_output({"trace", "--all", "-d", "0.5", "--top", "3", "--metrics", "127.0.0.1:0"});
    // Existing processes (-p) with a --comm filter.
    const pid_t sleeper = fork();
    ASSERT_GE(sleeper, 0);
    if (sleeper == 0) {
        execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
        _exit(127);
    }
    docs = expect_valid_output({"trace", "-p", std::to_string(sleeper), "-d", "0.3", "--comm", "sleep"});
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0]["trace"]["target"]["kind"], "pids");
}

TEST(Schema, IntervalRecordsAreNdjson) {
    IPCTRACE_REQUIRE_ROOT();
    const auto docs = expect_valid_output(
        {"trace", "-i", "0.2", "--", "sh", "-c", ipctrace_bin() + " run pipe --count 20000 --no-trace >/dev/null; sleep 0.5"}, true);
    ASSERT_GE(docs.size(), 3u);
    for (size_t i = 0; i + 1 < docs.size(); ++i) EXPECT_EQ(docs[i]["mode"], "interval") << "line " << i + 1;
    EXPECT_EQ(docs.back()["mode"], "trace") << "the last line is the whole trace";
}

}  // namespace
}  // namespace ipctrace::testing
