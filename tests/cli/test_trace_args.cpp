// `ipctrace trace` input: pid lists, /proc checks, cgroup paths, seconds, the one-target rule,
// and the one-line errors with exit code 2 (no root needed: all fail before any probe loads).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/cgroup_path.h"
#include "cli/pid_args.h"
#include "subprocess.h"
#include "cli/trace_options.h"

namespace ipctrace {
namespace {

namespace fs = std::filesystem;

TEST(PidList, SplitsCommasAndRepeatsAndDropsDuplicates) {
    auto r = parse_pid_list({"12,34", "56", "12"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), (std::vector<pid_t>{12, 34, 56}));
}

TEST(PidList, RejectsWhatIsNotAPositivePid) {
    for (const char* bad : {"abc", "", "12,", ",12", "0", "-5", "1.5", "12x", "99999999999"}) {
        auto r = parse_pid_list({bad});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().find("-p takes process ids"), std::string::npos) << bad;
    }
}

TEST(ProcStat, ReadsStatePpidAndFlagsPastACommWithSpacesAndParens) {
    const auto s = parse_proc_stat("42 (a (b) c) S 7 42 42 0 -1 2129984 0 0 0");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, 'S');
    EXPECT_EQ(s->ppid, 7);
    EXPECT_EQ(s->flags, 2129984ul);
    EXPECT_TRUE(s->flags & kPfKthread);
    EXPECT_FALSE(parse_proc_stat("42 (x) S 7"));
    EXPECT_FALSE(parse_proc_stat("garbage"));
}

// A fake /proc with one ordinary process, one kernel thread, one zombie and a thread.
class FakeProc : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("ipctrace-fakeproc-" + std::to_string(getpid()));
        add(100, "100 (app) S 1 100 100 0 -1 4194560 0", "Tgid:\t100\n", "/usr/bin/true");
        add(3, "3 (kworker/0:0) I 2 0 0 0 -1 69238880 0", "Tgid:\t3\n", "");
        add(200, "200 (dead) Z 1 200 200 0 -1 4194564 0", "Tgid:\t200\n", "");
        add(101, "101 (app-worker) S 1 100 100 0 -1 4194368 0", "Tgid:\t100\n", "/usr/bin/true");
    }
    void TearDown() override { fs::remove_all(root_); }
    void add(int pid, const std::string& stat, const std::string& status, const std::string& exe) {
        const fs::path dir = root_ / std::to_string(pid);
        fs::create_directories(dir);
        std::ofstream(dir / "stat") << stat;
        std::ofstream(dir / "status") << status;
        if (!exe.empty()) fs::create_symlink(exe, dir / "exe");
    }
    std::string error(std::vector<pid_t> pids) {
        auto r = check_pids(pids, 999, root_.string());
        return !r.ok() ? r.error() : "";
    }
    fs::path root_;
};

TEST_F(FakeProc, AcceptsAProcessAndMapsAThreadToItsProcess) {
    auto r = check_pids({100, 101}, 999, root_.string());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.value().tgids, (std::vector<pid_t>{100}));
    ASSERT_EQ(r.value().notes.size(), 1u);
    EXPECT_NE(r.value().notes[0].find("pid 101 is a thread of process 100"), std::string::npos);
}

TEST_F(FakeProc, RejectsMissingKernelThreadZombieAndSelf) {
    EXPECT_EQ(error({555}), "no process with pid 555");
    EXPECT_EQ(error({3}), "pid 3 is a kernel thread: it makes no syscalls of its own to trace");
    EXPECT_NE(error({200}).find("already exited"), std::string::npos);
    auto self = check_pids({100}, 100, root_.string());
    ASSERT_FALSE(self.ok());
    EXPECT_EQ(self.error(), "pid 100 is ipctrace itself");
}

TEST(Cgroup, FindsTheCgroup2MountInMountinfo) {
    const std::string hybrid =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    EXPECT_EQ(cgroup2_mount(hybrid), "/sys/fs/cgroup/unified");
    EXPECT_EQ(cgroup2_mount("36 25 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"), "/sys/fs/cgroup");
    EXPECT_FALSE(cgroup2_mount("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"));
}

TEST(Cgroup, RejectsWhatIsNotACgroup2Directory) {
    auto missing = resolve_cgroup("/nonexistent-cgroup-dir");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().find("No such file"), std::string::npos);
    auto tmp = resolve_cgroup("/tmp");
    ASSERT_FALSE(tmp.ok());
    EXPECT_NE(tmp.error().find("not on a cgroup v2 filesystem"), std::string::npos);
}

TEST(Seconds, TakesPositiveDecimals) {
    EXPECT_EQ((parse_seconds("2", "-d")).value(), 2.0);
    EXPECT_EQ((parse_seconds("0.5", "-i")).value(), 0.5);
    for (const char* bad : {"0", "-1", "x", "", "1s", "inf", "nan"})
        EXPECT_FALSE((parse_seconds(bad, "--duration")).ok()) << bad;
}

TEST(TraceOptions, ExactlyOneTarget) {
    auto none = check_trace_options({}, getpid());
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().find("trace needs what to trace"), std::string::npos);

    TraceOptionText two;
    two.all = true;
    two.pids = {"1"};
    auto both = check_trace_options(two, getpid());
    ASSERT_FALSE(both.ok());
    EXPECT_EQ(both.error(), "-p and --all exclude each other: trace one of -p, --all, --cgroup or a command");

    TraceOptionText all;
    all.all = true;
    all.duration = "1.5";
    all.interval = "0.5";
    all.top = "3";
    all.comm = "a-very-long-command-name";
    auto ok = check_trace_options(all, getpid());
    ASSERT_TRUE(ok.ok()) << ok.error();
    const auto& s = ok.value();
    EXPECT_EQ(s.target.kind, TraceTarget::Kind::All);
    EXPECT_EQ(*s.duration_s, 1.5);
    EXPECT_EQ(*s.interval_s, 0.5);
    EXPECT_EQ(s.top, 3u);
    EXPECT_EQ(s.comm, "a-very-long-com");  // the kernel's 15 characters
    EXPECT_EQ(s.notes.size(), 1u);
    EXPECT_EQ(s.max_procs, 0u) << "the built-in table sizes";
    EXPECT_EQ(s.keep_exited, kDefaultKeepExited);

    all.max_procs = "64";
    all.keep_exited = "0";
    auto sized = check_trace_options(all, getpid());
    ASSERT_TRUE(sized.ok()) << sized.error();
    EXPECT_EQ(sized.value().max_procs, 64u);
    EXPECT_EQ(sized.value().keep_exited, 0u);
}

TEST(TraceOptions, DescribesTheTarget) {
    TraceTarget t;
    t.kind = TraceTarget::Kind::Command;
    t.command = {"sh", "-c", "ps -ef | grep root"};
    EXPECT_EQ(describe(t), "command sh -c 'ps -ef | grep root' and its descendants");
    t.kind = TraceTarget::Kind::Pids;
    t.pids = {12, 34, 56};
    EXPECT_EQ(describe(t), "pids 12, 34 and 56 and the children they fork");
}

// The whole CLI: one line on stderr, exit 2, nothing on stdout.
void expect_trace_usage_error(std::vector<std::string> args, const std::string& needle) {
    args.insert(args.begin(), "trace");
    testing::expect_usage_error(args, needle);
}

// A kernel thread this process can see: kthreadd is pid 2 outside a pid namespace.
std::optional<pid_t> some_kernel_thread() {
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto s = parse_proc_stat(text); s && (s->flags & kPfKthread)) return std::stoi(name);
    }
    return std::nullopt;
}

TEST(TraceCli, BadInputGetsOneLineAndExitCode2) {
    expect_trace_usage_error({}, "trace needs what to trace");
    expect_trace_usage_error({"-p", "abc"}, "-p takes process ids like 1234 or 1234,5678, not 'abc'");
    expect_trace_usage_error({"-p", "999999"}, "no process with pid 999999");
    expect_trace_usage_error({"-p", std::to_string(getpid()) + ",999998"}, "no process with pid 999998");
    expect_trace_usage_error({"--all", "-p", "1"}, "-p and --all exclude each other");
    expect_trace_usage_error({"--all", "--", "true"}, "--all and a command exclude each other");
    expect_trace_usage_error({"--all", "true"}, "--all and a command exclude each other");  // no "--" needed
    expect_trace_usage_error({"-p", "1", "-d", "2", "sleep", "-p", "1"}, "-p and a command exclude each other");
    expect_trace_usage_error({"--cgroup", "/nonexistent-cgroup", "--all"}, "exclude each other");
    expect_trace_usage_error({"--cgroup", "/nonexistent-cgroup"}, "--cgroup /nonexistent-cgroup: No such file or directory");
    expect_trace_usage_error({"--cgroup", "/tmp"}, "not on a cgroup v2 filesystem");
    expect_trace_usage_error({"--all", "-d", "0"}, "--duration takes a number of seconds greater than 0");
    expect_trace_usage_error({"--all", "-i", "soon"}, "--interval takes a number of seconds");
    expect_trace_usage_error({"--all", "-i", "0.001"}, "--interval must be at least 0.01 seconds");
    expect_trace_usage_error({"--all", "--top", "0"}, "--top takes a number of processes");
    expect_trace_usage_error({"--all", "--max-procs", "0"}, "--max-procs takes a number of processes from 1 to 4194304, not '0'");
    expect_trace_usage_error({"--all", "--max-procs", "4194305"}, "--max-procs takes a number of processes from 1 to 4194304");
    expect_trace_usage_error({"--all", "--max-procs", "-5"}, "--max-procs takes a number of processes");
    expect_trace_usage_error({"--all", "--max-procs", "lots"}, "--max-procs takes a number of processes");
    expect_trace_usage_error({"--all", "--keep-exited", "x"}, "--keep-exited takes a number of processes from 0 to 4194304, not 'x'");
    expect_trace_usage_error({"--all", "-o", "/nonexistent-dir/t.txt"}, "cannot write /nonexistent-dir/t.txt");
    if (const auto kthread = some_kernel_thread())
        expect_trace_usage_error({"-p", std::to_string(*kthread)},
                           "pid " + std::to_string(*kthread) + " is a kernel thread: it makes no syscalls of its own to trace");
    if (access("/sys/fs/cgroup/memory", F_OK) == 0) expect_trace_usage_error({"--cgroup", "/sys/fs/cgroup/memory"}, "cgroup v1");
}

TEST(TraceCli, HelpNamesEveryOption) {
    const testing::CommandResult h = testing::run({testing::ipctrace_bin(), "trace", "--help"});
    EXPECT_EQ(h.exit_code, 0);
    for (const char* opt : {"--pid", "--all", "--cgroup", "--duration", "--interval", "--top", "--comm", "--json", "--output",
                            "--include-file-io", "--max-procs", "--keep-exited", "CMD [ARGS...]"})
        EXPECT_NE(h.out.find(opt), std::string::npos) << opt;
}

}  // namespace
}  // namespace ipctrace
