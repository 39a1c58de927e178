// Bad input: one clear line on stderr, exit code 2, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {


TEST(Cli, BadInputGetsOneLineAndExitCode2) {
    expect_usage_error({"run", "nosuch"}, "unknown workload 'nosuch'");
    expect_usage_error({"run", "shm", "--size", "0"}, "--size must be at least 1 byte");
    expect_usage_error({"run", "shm", "--size", "-4"}, "--size must be a positive");
    expect_usage_error({"run", "shm", "--size", "lots"}, "--size must be a number");
    expect_usage_error({"run", "shm", "--size", "2G"}, "1 GiB");
    expect_usage_error({"run", "shm", "--count", "0"}, "--count must be at least 1");
    expect_usage_error({"run", "shm", "--count", "x"}, "--count must be a number");
    expect_usage_error({"run", "sem", "--sync", "futex"}, "--sync");
    expect_usage_error({"run", "shm", "--sync", "magic"}, "--sync must be ring, sem, futex or spin, not 'magic'");
    expect_usage_error({"run", "shm", "--mode", "fast"}, "--mode must be stream, pingpong or lossy, not 'fast'");
    expect_usage_error({"run"}, "workload is required");
    expect_usage_error({"frobnicate"}, "frobnicate");
    expect_usage_error({}, "subcommand");
    expect_usage_error({"run", "shm", "-o", "/nonexistent-dir/report.txt"}, "cannot write /nonexistent-dir/report.txt");
}

// Issue 8: the rest of the matrix. Each case fails before anything runs: no probe, no fork.
TEST(Cli, BadValuesConflictsAndUnwritableOutputs) {
    expect_usage_error({"run", "shm", "--size", "-1"}, "--size must be a positive number of bytes, not '-1'");
    expect_usage_error({"run", "shm", "--size", "abc"}, "--size must be a number of bytes");
    expect_usage_error({"run", "shm", "--size", "4X"}, "unknown suffix");
    expect_usage_error({"run", "shm", "--size", "99999999999999999999"}, "is too large");
    expect_usage_error({"run", "shm", "--count", "1e3"}, "--count has an unknown suffix");
    expect_usage_error({"run", "shm", "--count", "-5"}, "--count must be a positive number");
    expect_usage_error({"run", "sem", "--mode", "stream"}, "workload 'sem' does not take --mode stream (accepts: pingpong)");
    expect_usage_error({"run", "msgq", "--sync", "futex"}, "workload 'msgq' does not take --sync futex");
    expect_usage_error({"run", "pipe", "--sync", "spin"}, "does not take --sync spin");
    expect_usage_error({"run", "pipe", "--mode", "lossy"}, "workload 'pipe' does not take --mode lossy (accepts: stream, pingpong)");
    expect_usage_error({"run", "udp", "--rate", "5"}, "--rate paces --mode lossy only");
    expect_usage_error({"run", "udp", "--mode", "lossy", "--rate", "0"}, "--rate must be at least 1 datagram per second");
    expect_usage_error({"run", "udp", "--mode", "lossy", "--rate", "fast"}, "--rate");
    expect_usage_error({"run", "sem", "--sync", "ring"}, "workload 'sem' does not take --sync ring");
    expect_usage_error({"run", "shm", "extra"}, "not expected");
    expect_usage_error({"run", "shm", "-o", "/tmp/a", "-o", "/tmp/b"}, "--output");
    expect_usage_error({"run", "shm", "--frobnicate"}, "--frobnicate");
    expect_usage_error({"compare", "shm", "--sizes", "1K,0"}, "--size must be at least 1 byte");
    expect_usage_error({"compare", "shm", "--count", "0"}, "--count must be at least 1");
    expect_usage_error({"compare", "shm", "--bytes", "0"}, "--bytes must be at least 1");
    expect_usage_error({"compare", "shm", "--mode", "fast"}, "--mode must be stream, pingpong or lossy, not 'fast'");
    expect_usage_error({"compare", "shm", "--repeat", "x"}, "--repeat");
    expect_usage_error({"compare", "shm", "--repeat", "101"}, "--repeat must be between 1 and 100");
    expect_usage_error({"compare", "shm", "-o", "-", "--svg", "-"}, "give -o and --svg different files");
    expect_usage_error({"compare", "shm", "--svg", "-"}, "give -o and --svg different files (both would write to stdout)");
    expect_usage_error({"compare", "shm", "-o", "/tmp/ipctrace-test-same", "--svg", "/tmp/ipctrace-test-same"}, "different files");
    // What the user typed comes back escaped: still one line.
    expect_usage_error({"run", "shm", "--size", "4\nK"}, "'4\\nK'");
    expect_usage_error({"run", "no\nsuch"}, "unknown workload 'no\\nsuch'");
    expect_usage_error({"bad\ncommand"}, "unknown command 'bad\\ncommand'");
    // -o that cannot be a report: checked before the run, not after it.
    expect_usage_error({"run", "shm", "-o", "/nonexistent-dir/r.json"}, "cannot write /nonexistent-dir/r.json: No such file or directory");
    expect_usage_error({"run", "shm", "-o", "/proc/ipctrace-report"}, "cannot write /proc/ipctrace-report");
    expect_usage_error({"run", "shm", "-o", "/proc/version"}, "cannot write /proc/version");
    expect_usage_error({"run", "shm", "-o", "/tmp"}, "cannot write /tmp: Is a directory");
    expect_usage_error({"compare", "shm", "--svg", "/nonexistent-dir/c.svg"}, "cannot write /nonexistent-dir/c.svg");
}

// A symlink planted in /tmp where the report will go: refused, its target untouched.
TEST(Cli, OutputRefusesASymlinkPlantedInTmp) {
    char dir[] = "/tmp/ipctrace-test-victim-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string target = std::string(dir) + "/precious", absent = std::string(dir) + "/created-elsewhere";
    std::ofstream(target) << "precious\n";
    const std::string link = "/tmp/ipctrace-test-planted-" + std::to_string(getpid()) + ".json";
    const std::string dangling = link + ".dangling";
    unlink(link.c_str());
    unlink(dangling.c_str());
    ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
    ASSERT_EQ(symlink(absent.c_str(), dangling.c_str()), 0);

    expect_usage_error({"run", "sem", "--count", "10", "--no-trace", "-o", link}, "cannot write " + link + ": it is a symbolic link");
    expect_usage_error({"run", "sem", "--count", "10", "--no-trace", "--json", "-o", dangling}, "symbolic link");
    expect_usage_error({"compare", "pipe", "--count", "10", "--svg", link}, "symbolic link");
    std::ifstream in(target);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "precious\n");
    struct stat st {};
    EXPECT_EQ(lstat(absent.c_str(), &st), -1) << "the dangling link's target was created";
    EXPECT_EQ(lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));

    unlink(link.c_str());
    unlink(dangling.c_str());
    run({"rm", "-rf", dir});
}

TEST(Cli, ListShowsEveryWorkload) {
    const CommandResult r = run({ipctrace_bin(), "list"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* w : {"shm", "sem", "msgq"}) EXPECT_NE(r.out.find(std::string("\n") + w + " "), std::string::npos) << w;
    // Which wait the shared-memory workloads use by default, and why (issue 14).
    EXPECT_NE(r.out.find("--sync ring (the default)"), std::string::npos) << r.out;
    const CommandResult h = run({ipctrace_bin(), "run", "--help"});
    EXPECT_NE(h.out.find("Default ring"), std::string::npos) << h.out;
}

TEST(Cli, VersionAndHelp) {
    const CommandResult v = run({ipctrace_bin(), "--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.out.rfind("ipctrace " IPCTRACE_VERSION "\n", 0), 0u) << v.out;
    // What a bug report needs, each against its own witness: git, pkg-config and uname.
    const CommandResult git = run({"git", "-C", IPCTRACE_SOURCE_DIR, "rev-parse", "--short=12", "HEAD"});
    if (git.exit_code == 0) {  // a tarball build says "unknown"
        EXPECT_NE(v.out.find("\ncommit " + git.out.substr(0, 12)), std::string::npos) << v.out;
    }
    const CommandResult libbpf = run({"pkg-config", "--modversion", "libbpf"});
    ASSERT_EQ(libbpf.exit_code, 0);
    EXPECT_NE(v.out.find("\nlibbpf " + libbpf.out.substr(0, libbpf.out.find('\n')) + " "), std::string::npos) << v.out;
    struct utsname u {};
    ASSERT_EQ(uname(&u), 0);
    EXPECT_NE(v.out.find("\nkernel " + std::string(u.release) + "\n"), std::string::npos) << v.out;
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
