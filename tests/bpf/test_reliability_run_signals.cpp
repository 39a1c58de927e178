// Reliability: stop signals to `run` and `compare` (SIGINT/SIGTERM/SIGHUP at every stage, to
// ipctrace or to its group), and how far an interrupted run got.
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "reliability_fixture.h"

namespace ipctrace::testing {
namespace {

struct StopCase {
    int sig;
    Moment when;
    bool group;  // to the whole process group, as Ctrl-C from a terminal: the roles get it too
};

std::string case_name(const StopCase& c) {
    return std::string("SIG") + sigabbrev_np(c.sig) + "_" + moment_name(c.when) + (c.group ? "_ToTheGroup" : "");
}
void PrintTo(const StopCase& c, std::ostream* os) { *os << case_name(c); }

class RunStopped : public Reliability, public ::testing::WithParamInterface<StopCase> {};

TEST_P(RunStopped, DetachesSaysSoExits128PlusSignalLeavesNothing) {
    const StopCase& c = GetParam();
    char real[PATH_MAX];
    ASSERT_NE(realpath(ipctrace_bin().c_str(), real), nullptr);
    Background& b = start({"run", "msgq", "--count", "5M"});  // ~20 s if nothing stopped it
    const std::string bin = real;
    switch (c.when) {
        case Moment::AtStart:
            ASSERT_TRUE(b.wait_exec(bin));
            break;
        case Moment::DuringLoad:
            ASSERT_TRUE(b.wait_loading());
            ASSERT_TRUE(b.running()) << b.err();
            break;
        case Moment::MidWorkload:
            ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
            std::this_thread::sleep_for(300ms);
            break;
    }
    c.group ? b.signal_group(c.sig) : b.signal(c.sig);
    const auto signalled = Clock::now();
    ASSERT_TRUE(wait_for_exit(b)) << "still running 15 s after the signal";
    const auto took = std::chrono::duration_cast<Ms>(Clock::now() - signalled);
    EXPECT_LT(took, 5s) << "ipctrace took long to stop";

    const int status = b.status();
    const std::string err = b.err(), out = b.out();
    if (c.when == Moment::AtStart && WIFSIGNALED(status)) {
        // Before the handlers are installed the default action applies; nothing existed yet.
        EXPECT_EQ(WTERMSIG(status), c.sig) << describe_status(status);
        EXPECT_EQ(out, "");
    } else {
        ASSERT_TRUE(WIFEXITED(status)) << describe_status(status) << "\n" << err;
        EXPECT_EQ(WEXITSTATUS(status), 128 + c.sig) << err;
        const std::string line = last_line(err);
        EXPECT_TRUE(starts_with(line, "ipctrace: interrupted")) << err;
        if (out.empty()) {
            EXPECT_NE(line.find("nothing was measured"), std::string::npos) << err;
        } else {  // what was measured until the signal
            EXPECT_TRUE(starts_with(out, "ipctrace run msgq:")) << out.substr(0, 300);
            EXPECT_NE(line.find("the report covers the run until the signal"), std::string::npos) << err;
        }
        if (c.when == Moment::MidWorkload) {
            EXPECT_NE(out.find("msgsnd"), std::string::npos) << "the partial report\n" << out;
        }
    }
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(
    Signals, RunStopped,
    ::testing::Values(StopCase{SIGINT, Moment::AtStart, false}, StopCase{SIGTERM, Moment::AtStart, false},
                      StopCase{SIGINT, Moment::DuringLoad, false}, StopCase{SIGTERM, Moment::DuringLoad, false},
                      StopCase{SIGINT, Moment::MidWorkload, false}, StopCase{SIGTERM, Moment::MidWorkload, false},
                      StopCase{SIGHUP, Moment::MidWorkload, false}, StopCase{SIGINT, Moment::DuringLoad, true},
                      StopCase{SIGINT, Moment::MidWorkload, true}),
    [](const ::testing::TestParamInfo<StopCase>& info) { return case_name(info.param); });

// ---- stop signals to `compare` ---------------------------------------------------------------

class CompareStopped : public Reliability, public ::testing::WithParamInterface<int> {};

// pipe runs to the end, then the signal comes while msgq runs: the comparison has pipe.
TEST_P(CompareStopped, MidRunPrintsTheFinishedRunsAndLeavesNothing) {
    const int sig = GetParam();
    Background& b = start({"compare", "pipe", "msgq", "--size", "1K", "--count", "1M", "--repeat", "1", "--json"});
    ASSERT_TRUE(wait_for_stderr(b, "ipctrace compare: msgq,")) << b.err();
    ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
    std::this_thread::sleep_for(300ms);
    b.signal(sig);
    ASSERT_TRUE(wait_for_exit(b));
    ASSERT_TRUE(WIFEXITED(b.status())) << describe_status(b.status());
    EXPECT_EQ(WEXITSTATUS(b.status()), 128 + sig) << b.err();
    EXPECT_EQ(last_line(b.err()), "ipctrace: interrupted: the comparison covers the runs finished before the signal") << b.err();
    const json doc = json::parse(b.out(), nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << b.out().substr(0, 300);
    ASSERT_EQ(doc["results"].size(), 1u);
    ASSERT_EQ(doc["results"][0]["rows"].size(), 1u);
    EXPECT_EQ(doc["results"][0]["rows"][0]["workload"], "pipe");
    EXPECT_TRUE(doc["results"][0]["rows"][0]["ok"].get<bool>());
    EXPECT_EQ(doc["runs"].size(), 1u);
    expect_nothing_left();
}

// The signal during the first traced run: nothing to compare, one clear line, no stdout.
TEST_P(CompareStopped, BeforeAnyRunFinishedOneClearLine) {
    const int sig = GetParam();
    Background& b = start({"compare", "pipe", "msgq", "--size", "1K", "--count", "1M", "--repeat", "1"});
    ASSERT_TRUE(wait_for_stderr(b, "ipctrace compare: pipe,")) << b.err();
    ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
    b.signal(sig);
    ASSERT_TRUE(wait_for_exit(b));
    ASSERT_TRUE(WIFEXITED(b.status())) << describe_status(b.status());
    EXPECT_EQ(WEXITSTATUS(b.status()), 128 + sig) << b.err();
    EXPECT_EQ(last_line(b.err()), "ipctrace: interrupted before any run finished: nothing was compared") << b.err();
    EXPECT_EQ(b.out(), "");
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Signals, CompareStopped, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) { return std::string("SIG") + sigabbrev_np(info.param); });

// ---- how far an interrupted run got ------------------------------------------------------------

// The roles publish their progress as they go (relaxed stores into the shared control block),
// so a run stopped mid-way reports the messages delivered until the signal. The oracle is the
// probes' own count of the receiving calls: a message is published right after its receive
// returned, so at the kill the receiver has made as many receives as it published, or one
// more (the kill came between the return and the publication, or inside the call, which then
// exits with an error and is counted as one).
TEST_F(Reliability, AnInterruptedRunSaysHowFarTheWorkloadGot) {
    struct Case {
        std::string workload, mode, receive;
        uint64_t size;
    };
    for (const Case& w : {Case{"msgq", "stream", "msgrcv", 256}, Case{"pipe", "pingpong", "read", 64}}) {
        SCOPED_TRACE(w.workload + " " + w.mode);
        const uint64_t count = 50'000'000;
        Background& b = start({"run", w.workload, "--mode", w.mode, "--count", "50M", "--size", std::to_string(w.size), "--json"});
        ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
        std::this_thread::sleep_for(500ms);
        b.signal(SIGINT);
        ASSERT_TRUE(wait_for_exit(b));
        ASSERT_TRUE(WIFEXITED(b.status())) << describe_status(b.status());
        EXPECT_EQ(WEXITSTATUS(b.status()), 128 + SIGINT) << b.err();
        const json doc = json::parse(b.out(), nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << b.out().substr(0, 300);
        const SchemaVerdict v = validate_json(doc);
        EXPECT_TRUE(v.valid) << v.message;
        const json& wl = doc["workload"];
        EXPECT_FALSE(wl["ok"].get<bool>());
        EXPECT_EQ(wl["error"], "interrupted");
        const uint64_t messages = wl["messages"].get<uint64_t>();
        EXPECT_GT(messages, 0u) << "the report says how far the workload got";
        EXPECT_LE(messages, count);
        EXPECT_EQ(wl["bytes"].get<uint64_t>(), messages * w.size);
        EXPECT_GT(wl["elapsed_ns"].get<uint64_t>(), 0u);
        EXPECT_GT(wl["messages_per_s"].get<double>(), 0.0);

        const auto traced = traced_calls(doc);
        const uint64_t received = traced.count(w.receive) ? traced.at(w.receive) : 0;
        if (w.mode == "stream") {
            // Only the consumer receives.
            EXPECT_GE(received, messages);
            EXPECT_LE(received, messages + 1);
        } else {
            // The responder read `messages` requests, or one more (not yet published, or cut
            // short by the kill). The initiator read every reply before its next request, so at
            // least messages - 1; at most one reply more than the responder published, plus one
            // read cut short (killed inside, or at the end of the pipe when the responder was
            // killed first: the roles are killed one after the other).
            EXPECT_GE(received + 1, 2 * messages);
            EXPECT_LE(received, 2 * messages + 3);
        }
        // The workload counts a call just before making it: the kill may fall in between.
        const auto ops = workload_ops(doc);
        const uint64_t own = ops.count(w.receive) ? ops.at(w.receive) : 0;
        EXPECT_GE(own, received);
        EXPECT_LE(own, received + (w.mode == "stream" ? 1 : 2));
    }
    expect_nothing_left();
}

}  // namespace
}  // namespace ipctrace::testing
