// Bad input: one clear line on stderr, exit code 2, never a crash.
#include <gtest/gtest.h>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
    std::vector<std::string> argv = {ipctrace_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run(argv);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "stderr: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << joined << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << joined << "stderr: " << r.err;
    EXPECT_EQ(r.out, "") << joined;
}

TEST(Cli, BadInputGetsOneLineAndExitCode2) {
    expect_usage_error({"run", "nosuch"}, "unknown workload 'nosuch'");
    expect_usage_error({"run", "shm", "--size", "0"}, "--size must be at least 1 byte");
    expect_usage_error({"run", "shm", "--size", "-4"}, "--size must be a positive");
    expect_usage_error({"run", "shm", "--size", "lots"}, "--size must be a number");
    expect_usage_error({"run", "shm", "--size", "2G"}, "1 GiB");
    expect_usage_error({"run", "shm", "--count", "0"}, "--count must be at least 1");
    expect_usage_error({"run", "shm", "--count", "x"}, "--count must be a number");
    expect_usage_error({"run", "sem", "--sync", "futex"}, "--sync");
    expect_usage_error({"run", "shm", "--sync", "magic"}, "--sync must be sem, futex or spin");
    expect_usage_error({"run", "shm", "--mode", "fast"}, "--mode must be stream or pingpong");
    expect_usage_error({"run"}, "workload is required");
    expect_usage_error({"frobnicate"}, "frobnicate");
    expect_usage_error({}, "subcommand");
    expect_usage_error({"run", "shm", "-o", "/nonexistent-dir/report.txt"}, "cannot write /nonexistent-dir/report.txt");
}

TEST(Cli, ListShowsEveryWorkload) {
    const CommandResult r = run({ipctrace_bin(), "list"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* w : {"shm", "sem", "msgq"}) EXPECT_NE(r.out.find(std::string("\n") + w + " "), std::string::npos) << w;
}

TEST(Cli, VersionAndHelp) {
    const CommandResult v = run({ipctrace_bin(), "--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_NE(v.out.find("ipctrace " IPCTRACE_VERSION), std::string::npos);
    const CommandResult h = run({ipctrace_bin(), "run", "--help"});
    EXPECT_EQ(h.exit_code, 0);
    for (const char* opt : {"--count", "--size", "--sync", "--mode", "--json", "--output", "--no-trace"})
        EXPECT_NE(h.out.find(opt), std::string::npos) << opt;
}

TEST(Cli, NoTraceRunsWithoutProbes) {
    const CommandResult r = run({ipctrace_bin(), "run", "sem", "--no-trace", "--count", "200"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("not traced"), std::string::npos);
}

}  // namespace
}  // namespace ipctrace::testing
