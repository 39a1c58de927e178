// Reliability: stop signals to `trace` (-- CMD, -p, --all) at set and random moments, and a
// terminal's Ctrl-C. The driver: trace_stopped.h.
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "trace_stopped.h"

namespace ipctrace::testing {
namespace {

class TraceStoppedAt : public TraceStopped, public ::testing::WithParamInterface<TraceStop> {};

TEST_P(TraceStoppedAt, ReportsDetachesAndLeavesNothing) { run_case(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Signals, TraceStoppedAt,
    ::testing::Values(
        // trace -- CMD: the signal is the command's; ipctrace returns its status.
        TraceStop{TraceKind::Command, SIGTERM, TraceMoment::AtStart, true}, TraceStop{TraceKind::Command, SIGINT, TraceMoment::DuringLoad, false},
        TraceStop{TraceKind::Command, SIGTERM, TraceMoment::DuringLoad, true}, TraceStop{TraceKind::Command, SIGINT, TraceMoment::Tracing, false},
        TraceStop{TraceKind::Command, SIGTERM, TraceMoment::Tracing, true}, TraceStop{TraceKind::Command, SIGINT, TraceMoment::Intervals, true},
        TraceStop{TraceKind::Command, SIGINT, TraceMoment::Tracing, true, true},
        // trace -p: the signal ends the trace, exit 0.
        TraceStop{TraceKind::Pids, SIGINT, TraceMoment::AtStart, false}, TraceStop{TraceKind::Pids, SIGTERM, TraceMoment::DuringLoad, true},
        TraceStop{TraceKind::Pids, SIGINT, TraceMoment::Tracing, false}, TraceStop{TraceKind::Pids, SIGTERM, TraceMoment::Intervals, true},
        // trace --all
        TraceStop{TraceKind::All, SIGTERM, TraceMoment::AtStart, true}, TraceStop{TraceKind::All, SIGINT, TraceMoment::DuringLoad, false},
        TraceStop{TraceKind::All, SIGTERM, TraceMoment::Tracing, true}, TraceStop{TraceKind::All, SIGINT, TraceMoment::Intervals, true}),
    [](const ::testing::TestParamInfo<TraceStop>& info) { return trace_case_name(info.param); });

// Signals at random moments: target, signal, text or JSON, -i or not, and the delay after
// launch are drawn from a seeded generator. The seed is printed; IPCTRACE_TEST_SEED=N replays it.
TEST_F(TraceStopped, AtRandomMomentsKeepsItsContract) {
    const char* env = std::getenv("IPCTRACE_TEST_SEED");
    const unsigned seed = env ? static_cast<unsigned>(std::stoul(env)) : std::random_device{}();
    std::printf("TraceStopped.AtRandomMomentsKeepsItsContract: seed %u (IPCTRACE_TEST_SEED=%u replays it)\n", seed, seed);
    RecordProperty("seed", std::to_string(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    for (int i = 0; i < 4 && !HasFatalFailure(); ++i) {
        TraceStop c{};
        c.kind = static_cast<TraceKind>(rng() % 3);
        c.sig = rng() % 2 ? SIGINT : SIGTERM;
        c.when = rng() % 2 ? TraceMoment::Intervals : TraceMoment::Tracing;  // decides -i; the delay decides the moment
        c.json = rng() % 2;
        const Ms delay(rng() % 900);  // launch → load → attach → tracing all fall in 0-900 ms here
        run_case(c, delay);
    }
}

// Ctrl-C from a real terminal: the tty sends SIGINT to its foreground process group
// (si_code SI_KERNEL), ipctrace and the command alike, so ipctrace does not forward it. While
// the probes load the command does not exist yet: the Ctrl-C must still stop it once it runs.
// ipctrace runs as a session leader on a pseudo-terminal; the test types ^C on the master.
class TraceOnATerminal : public TraceStopped, public ::testing::WithParamInterface<TraceMoment> {};

TEST_P(TraceOnATerminal, CtrlCStopsTheCommand) {
    const int master = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0) << strerror(errno);
    ASSERT_EQ(grantpt(master), 0);
    ASSERT_EQ(unlockpt(master), 0);
    const std::string slave = ptsname(master);
    char report_path[] = "/tmp/ipctrace-test-tty-XXXXXX";
    const int rfd = mkstemp(report_path);
    ASSERT_GE(rfd, 0);
    close(rfd);
    const std::string report = report_path;
    const std::vector<std::string> argv = {ipctrace_bin(), "trace", "--json", "-o", report, "--", ipctrace_bin(), "run", "pipe",
                                           "--no-trace", "--count", "500M", "--size", "64"};
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // A new session whose controlling terminal is the slave: its foreground group is ours.
        setsid();
        const int fd = open(slave.c_str(), O_RDWR);
        if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) != 0) _exit(126);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(master);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    bool reaped = false;
    auto running = [&] {
        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) reaped = true;
        return !reaped;
    };
    // Drain the terminal (the command's partial report), so nothing blocks writing to it.
    std::string screen;
    auto drain = [&] {
        char buf[4096];
        for (;;) {
            pollfd p{master, POLLIN, 0};
            if (poll(&p, 1, 0) <= 0) break;
            const ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;
            screen.append(buf, static_cast<size_t>(n));
        }
    };
    auto track = [&] {
        drain();
        for (const auto& r : descendants_of(pid))
            if (std::find_if(roles_.begin(), roles_.end(), [&](const ProcId& x) { return x.pid == r.pid && x.start == r.start; }) ==
                roles_.end())
                roles_.push_back(r);
    };
    if (GetParam() == TraceMoment::DuringLoad) {
        ASSERT_TRUE(eventually([&] { return !bpf_fds_of(pid).empty() || !running(); }, 10s, 0ms));
    } else {
        ASSERT_TRUE(eventually(
            [&] {
                track();
                return descendants_of(pid).size() >= 3 || !running();
            },
            15s, 2ms));
        std::this_thread::sleep_for(300ms);
    }
    ASSERT_TRUE(running()) << screen;
    track();
    ASSERT_EQ(write(master, "\x03", 1), 1);  // ^C: the line discipline signals the foreground group
    const bool ended = eventually(
        [&] {
            track();
            return !running();
        },
        10s, 2ms);
    if (!ended) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    drain();
    close(master);
    EXPECT_TRUE(ended) << "the command did not stop on Ctrl-C\n" << screen;
    if (ended) {
        ASSERT_TRUE(WIFEXITED(status)) << describe_status(status);
        EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT) << screen;
        const json doc = json::parse(read_text(report), nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << read_text(report).substr(0, 300);
        EXPECT_EQ(doc["trace"]["stop_reason"], "command_exited");
        const json& ex = doc["trace"]["command_exit"];
        EXPECT_TRUE(ex["code"].get<int>() == 128 + SIGINT || ex["signal"].get<int>() == SIGINT) << ex.dump();
    }
    unlink(report.c_str());
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Signals, TraceOnATerminal, ::testing::Values(TraceMoment::DuringLoad, TraceMoment::Tracing),
                         [](const ::testing::TestParamInfo<TraceMoment>& info) { return trace_moment_name(info.param); });

}  // namespace
}  // namespace ipctrace::testing
