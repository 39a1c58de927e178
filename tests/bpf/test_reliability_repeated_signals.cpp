// Reliability, issue 13: a second stop signal never costs the report, and the -o file is the
// old one or a complete new one, whatever kills ipctrace when.
//
// - coreutils `timeout -s INT`, `timeout -s TERM`, SIGINT to a `timeout` wrapper (which
//   forwards it to ipctrace and then sends it to its whole process group), and kill -INT to
//   ipctrace's process group; for trace -p, trace -- CMD, trace --all and run. Each run
//   leaves a complete, schema-valid JSON report and the exit status of the contract.
// - 2-5 stop signals at random 0-50 ms intervals, the first one starting the final harvest
//   and write.
// - SIGKILL at random moments around the final write, with an existing -o file: the file is
//   the old document or a complete new one, never empty or partial; no temporary stays.
// - The traced command starts with the signal dispositions and mask ipctrace was given.
// Each case repeats (kRuns, kSenderRuns) to catch a race; the seed of the random ones is printed and
// IPCTRACE_TEST_SEED=N replays it.
#include "trace_stopped.h"

namespace ipctrace::testing {
namespace {

enum class Target { Pids, Command, All, Run };
enum class Sender {
    TimeoutInt,       // timeout -s INT D ipctrace …: the timer fires
    TimeoutTerm,      // timeout -s TERM D ipctrace …
    SigintToTimeout,  // timeout 60 ipctrace …, then kill -INT <timeout>
    Group             // kill -INT -PGID, ipctrace the group leader
};

std::string target_name(Target t) {
    return t == Target::Pids ? "Pids" : t == Target::Command ? "Command" : t == Target::All ? "All" : "Run";
}
std::string sender_name(Sender s) {
    return s == Sender::TimeoutInt ? "TimeoutInt" : s == Sender::TimeoutTerm ? "TimeoutTerm" : s == Sender::SigintToTimeout ? "SigintToTimeout" : "Group";
}

unsigned seed_of(const char* test) {
    const char* env = std::getenv("IPCTRACE_TEST_SEED");
    const unsigned seed = env ? static_cast<unsigned>(std::stoul(env)) : std::random_device{}();
    std::printf("%s: seed %u (IPCTRACE_TEST_SEED=%u replays it)\n", test, seed, seed);
    return seed;
}

// A fresh name in /tmp for an -o file, not created.
std::string fresh_report_path() {
    char p[] = "/tmp/ipctrace-test-signals-XXXXXX";
    const int fd = mkstemp(p);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    unlink(p);
    return p;
}

// The temporaries ipctrace writes beside `path` (.NAME.ipctrace-PID.tmp).
std::vector<std::string> temporaries_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    const std::string dir = path.substr(0, slash), prefix = "." + path.substr(slash + 1) + ".ipctrace-";
    std::vector<std::string> out;
    for (const auto& e : dir_entries(dir))
        if (starts_with(e, prefix)) out.push_back(dir + "/" + e);
    return out;
}

class RepeatedSignals : public TraceStopped {
protected:
    void TearDown() override {
        for (const auto& p : cleanup_) unlink(p.c_str());
        TraceStopped::TearDown();
    }

    // ipctrace's arguments for `t`, its JSON report into `report`.
    std::vector<std::string> ipctrace_args(Target t, const std::string& report) {
        std::vector<std::string> a = {ipctrace_bin()};
        if (t == Target::Run) {
            a.insert(a.end(), {"run", "pipe", "--count", "500M", "--size", "64", "--json", "-o", report});
            return a;
        }
        a.insert(a.end(), {"trace", "--json", "-o", report});
        if (t == Target::Pids) a.insert(a.end(), {"-p", std::to_string(targets_[0]) + "," + std::to_string(targets_[1])});
        if (t == Target::All) a.push_back("--all");
        if (t == Target::Command) a.insert(a.end(), {"--", "sleep", "30"});
        return a;
    }

    // The -p/--all targets: an untraced workload's two roles.
    void start_targets() {
        Background& v = start_victim();
        ASSERT_TRUE(wait_for_roles(v, 2)) << v.err();
        for (const auto& r : children_of(v.pid())) targets_.push_back(r.pid);
        ASSERT_EQ(targets_.size(), 2u);
    }

    // `b` (ipctrace, or the timeout running it) is tracing: the probes count.
    bool wait_tracing(Background& b, Target t) {
        // trace -p/--all say so; a command or a run's roles exist once the probes are attached.
        if (t == Target::Pids || t == Target::All) return wait_for_stderr(b, "ipctrace: tracing");
        if (t == Target::Command) {
            // The command itself, exec'd. Counting processes was not enough: it once counted two
            // while ipctrace was still starting, and the signal came before its handlers existed.
            auto sleeping = [&] {
                track_descendants(b);
                for (const auto& p : descendants_of(b.pid()))
                    if (readlink_str("/proc/" + std::to_string(p.pid) + "/exe").ends_with("/sleep")) return true;
                return false;
            };
            return eventually([&] { return sleeping() || !b.running(); }, 15s, 2ms) && b.running();
        }
        const bool wrapped = readlink_str("/proc/" + std::to_string(b.pid()) + "/exe").find("timeout") != std::string::npos;
        const size_t below = (wrapped ? 1 : 0) + 2;  // the run's two roles
        if (!wait_for_descendants(b, below)) return false;
        // The roles exist (and spin) before the probes attach and the workload is let go: a
        // signal then rightly ends the run with no report. Messages moving is the proof that
        // the run is measuring: the bytes the roles wrote grow.
        auto written = [&] {
            unsigned long long sum = 0;
            for (const auto& p : descendants_of(b.pid())) {
                std::istringstream io(read_text("/proc/" + std::to_string(p.pid) + "/io"));
                for (std::string key; io >> key;) {
                    unsigned long long v = 0;
                    io >> v;
                    if (key == "wchar:") sum += v;
                }
            }
            return sum;
        };
        const unsigned long long before = written();
        return eventually([&] { return written() >= before + 4096 || !b.running(); }, 15s, 2ms) && b.running();
    }

    // The report of one stopped run: a complete, valid document with the contract's exit.
    void check_report(Target t, int sig, int status, const std::string& report, const std::string& err) {
        ASSERT_TRUE(WIFEXITED(status)) << describe_status(status) << "\n" << err;
        const int want = t == Target::Pids || t == Target::All ? 0 : 128 + sig;
        EXPECT_EQ(WEXITSTATUS(status), want) << err;
        const std::string text = read_text(report);
        std::string temps;
        for (const auto& t : temporaries_of(report)) temps += " " + t;
        struct stat st {};
        ASSERT_FALSE(text.empty()) << "no report in " << report << (lstat(report.c_str(), &st) == 0 ? " (empty)" : " (absent)")
                                   << ", temporaries:" << temps << "\n" << err;
        const SchemaVerdict v = validate_file(report);
        EXPECT_TRUE(v.valid) << v.message;
        const json doc = json::parse(text, nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << text.substr(0, 300);
        if (t == Target::Run) {
            EXPECT_EQ(doc["mode"], "run");
            return;
        }
        const json& tr = doc["trace"];
        if (t == Target::Command) {
            // The command died of the signal, or (repeated signals) was not waited for.
            if (tr["stop_reason"] == "command_exited") {
                EXPECT_EQ(tr["command_exit"]["signal"].get<int>(), sig) << tr.dump().substr(0, 300);
            } else {
                EXPECT_EQ(tr["stop_reason"], "signal") << tr.dump().substr(0, 300);
            }
        } else {
            EXPECT_EQ(tr["stop_reason"], "signal");
            EXPECT_EQ(tr["signal"].get<int>(), sig);
        }
    }

    void run_sender(Target t, Sender s, int runs) {
        if (t == Target::Pids || t == Target::All) start_targets();
        if (HasFatalFailure()) return;
        const int sig = s == Sender::TimeoutTerm ? SIGTERM : SIGINT;
        // The run's roles start ~1 s after launch on a loaded machine; a trace's probes ~0.5 s.
        const std::string after = t == Target::Run ? "2" : "0.8";
        for (int i = 0; i < runs && !HasFatalFailure(); ++i) {
            SCOPED_TRACE(target_name(t) + " " + sender_name(s) + " run " + std::to_string(i));
            const std::string report = fresh_report_path();
            cleanup_.push_back(report);
            std::vector<std::string> argv = ipctrace_args(t, report);
            std::vector<std::string> wrap;
            if (s == Sender::TimeoutInt) wrap = {"timeout", "--preserve-status", "-s", "INT", after};
            if (s == Sender::TimeoutTerm) wrap = {"timeout", "--preserve-status", "-s", "TERM", after};
            if (s == Sender::SigintToTimeout) wrap = {"timeout", "--preserve-status", "60"};
            argv.insert(argv.begin(), wrap.begin(), wrap.end());
            started_.push_back(std::make_unique<Background>(argv));
            Background& b = *started_.back();
            std::string at_signal;  // the processes below `b` when it was signalled
            if (s == Sender::SigintToTimeout || s == Sender::Group) {
                ASSERT_TRUE(wait_tracing(b, t)) << b.err();
                track_descendants(b);
                for (const auto& p : descendants_of(b.pid()))
                    at_signal += " " + std::to_string(p.pid) + ":" + readlink_str("/proc/" + std::to_string(p.pid) + "/exe");
                s == Sender::Group ? b.signal_group(SIGINT) : b.signal(SIGINT);
            } else {
                eventually([&] { track_descendants(b); return !b.running(); }, Ms(2500), 2ms);
            }
            ASSERT_TRUE(wait_for_end(b)) << "still running 15 s after the signal";
            check_report(t, sig, b.status(), report, b.err() + (at_signal.empty() ? "" : "\nsignalled with below it:" + at_signal));
            unlink(report.c_str());
            EXPECT_TRUE(temporaries_of(report).empty()) << "a temporary file was left beside " << report;
            started_.pop_back();
        }
        stop_victim();
        expect_nothing_left();
    }

    std::vector<pid_t> targets_;
    std::vector<std::string> cleanup_;
};

constexpr int kRuns = 20;      // bursts, SIGKILL
constexpr int kSenderRuns = 12;  // per target and sender: 48 stops per target
constexpr int kRunRuns = 8;  // `run`: ~2.5 s each

struct Case {
    Target target;
    Sender sender;
};
std::string case_label(const Case& c) { return target_name(c.target) + "_" + sender_name(c.sender); }
void PrintTo(const Case& c, std::ostream* os) { *os << case_label(c); }

class RepeatedSignalsFrom : public RepeatedSignals, public ::testing::WithParamInterface<Case> {};

TEST_P(RepeatedSignalsFrom, EveryRunLeavesACompleteReport) {
    run_sender(GetParam().target, GetParam().sender, GetParam().target == Target::Run ? kRunRuns : kSenderRuns);
}

std::vector<Case> all_cases() {
    std::vector<Case> out;
    for (Target t : {Target::Pids, Target::Command, Target::All, Target::Run})
        for (Sender s : {Sender::TimeoutInt, Sender::TimeoutTerm, Sender::SigintToTimeout, Sender::Group}) out.push_back({t, s});
    return out;
}

INSTANTIATE_TEST_SUITE_P(Signals, RepeatedSignalsFrom, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return case_label(info.param); });

// 2-5 stop signals (SIGINT, SIGTERM, SIGHUP drawn at random) 0-50 ms apart: the first starts
// the final harvest and write, the others land in them. The report is always complete.
TEST_F(RepeatedSignals, BurstsDuringTheHarvestAndTheWrite) {
    const unsigned seed = seed_of("RepeatedSignals.BurstsDuringTheHarvestAndTheWrite");
    RecordProperty("seed", std::to_string(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    start_targets();
    for (int i = 0; i < kRuns && !HasFatalFailure(); ++i) {
        const Target t = static_cast<Target>(rng() % 3);  // the trace modes; `run` below
        const int n = 2 + static_cast<int>(rng() % 4);
        SCOPED_TRACE(target_name(t) + " run " + std::to_string(i) + ", " + std::to_string(n) + " signals");
        const std::string report = fresh_report_path();
        cleanup_.push_back(report);
        started_.push_back(std::make_unique<Background>(ipctrace_args(t, report)));
        Background& b = *started_.back();
        ASSERT_TRUE(wait_tracing(b, t)) << b.err();
        track_descendants(b);
        for (int k = 0; k < n; ++k) {
            b.signal(std::array<int, 3>{SIGINT, SIGTERM, SIGHUP}[rng() % 3]);
            std::this_thread::sleep_for(Ms(rng() % 51));
        }
        ASSERT_TRUE(wait_for_end(b)) << "still running 15 s after the signals";
        const int status = b.status();
        ASSERT_TRUE(WIFEXITED(status)) << describe_status(status) << "\n" << b.err();
        const json doc = json::parse(read_text(report), nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << "no complete report:\n" << read_text(report).substr(0, 300);
        const SchemaVerdict v = validate_file(report);
        EXPECT_TRUE(v.valid) << v.message;
        if (t != Target::Command) {
            EXPECT_EQ(WEXITSTATUS(status), 0) << b.err();
            EXPECT_EQ(doc["trace"]["stop_reason"], "signal");
        } else {
            EXPECT_GT(WEXITSTATUS(status), 128) << b.err();  // the command's death, or the last signal
        }
        unlink(report.c_str());
        EXPECT_TRUE(temporaries_of(report).empty());
        started_.pop_back();
    }
    stop_victim();
    expect_nothing_left();
}

// SIGKILL at a random moment from just before the stop signal to after the write: the -o
// file, which held a previous report, holds it still or holds a complete new one. A killed
// run's temporary is removed by the next run writing the same file.
TEST_F(RepeatedSignals, SigkillAtAnyMomentLeavesTheOldOrACompleteNewFile) {
    const unsigned seed = seed_of("RepeatedSignals.SigkillAtAnyMomentLeavesTheOldOrACompleteNewFile");
    RecordProperty("seed", std::to_string(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    start_targets();
    const std::string report = fresh_report_path();
    cleanup_.push_back(report);
    const std::string old_doc = "{\"previous\": \"report\"}\n";
    std::ofstream(report) << old_doc;
    int old_kept = 0, replaced = 0;
    for (int i = 0; i < kRuns && !HasFatalFailure(); ++i) {
        const Target t = rng() % 2 ? Target::All : Target::Pids;  // --all: a large document to cut
        const Ms delay(static_cast<int>(rng() % 80) - 10);     // -10 ms: before the stop signal
        SCOPED_TRACE(target_name(t) + " run " + std::to_string(i) + ", SIGKILL at " + std::to_string(delay.count()) + " ms");
        const std::string before = read_text(report);
        started_.push_back(std::make_unique<Background>(ipctrace_args(t, report)));
        Background& b = *started_.back();
        ASSERT_TRUE(wait_tracing(b, t)) << b.err();
        if (delay.count() < 0) {
            b.signal(SIGKILL);
        } else {
            b.signal(SIGINT);
            std::this_thread::sleep_for(delay);
            b.signal(SIGKILL);
        }
        ASSERT_TRUE(wait_for_end(b));
        const std::string now = read_text(report);
        if (now == before) {
            ++old_kept;
        } else {
            ++replaced;
            const json doc = json::parse(now, nullptr, false);
            ASSERT_FALSE(doc.is_discarded()) << "neither the old file nor a complete new one (" << now.size() << " bytes):\n"
                                             << now.substr(0, 200) << "\n…" << now.substr(now.size() > 200 ? now.size() - 200 : 0);
            const SchemaVerdict v = validate_file(report);
            EXPECT_TRUE(v.valid) << v.message;
        }
        started_.pop_back();
    }
    std::printf("SIGKILL: old file kept %d times, replaced by a complete report %d times\n", old_kept, replaced);
    // One more run to the end: it removes any temporary a killed run left, and leaves none.
    started_.push_back(std::make_unique<Background>(ipctrace_args(Target::Pids, report)));
    Background& b = *started_.back();
    ASSERT_TRUE(wait_tracing(b, Target::Pids)) << b.err();
    b.signal(SIGINT);
    ASSERT_TRUE(wait_for_end(b));
    EXPECT_TRUE(WIFEXITED(b.status()) && WEXITSTATUS(b.status()) == 0) << describe_status(b.status()) << b.err();
    EXPECT_TRUE(validate_file(report).valid);
    EXPECT_EQ(temporaries_of(report), std::vector<std::string>{});
    stop_victim();
    expect_nothing_left();
}

// The masks of /proc/PID/status, by name ("SigIgn", "SigBlk"), as hex text.
std::map<std::string, std::string> signal_masks(const std::string& status) {
    std::map<std::string, std::string> out;
    for (const auto& line : lines_of(status))
        for (const char* key : {"SigIgn", "SigBlk"})
            if (starts_with(line, std::string(key) + ":")) out[key] = line.substr(line.find_first_not_of(" \t", std::strlen(key) + 1));
    return out;
}

// As strace: the traced command starts with the dispositions and the mask ipctrace was given,
// not ipctrace's handlers or the signals it blocks while it waits. The oracle is the same
// command run under the same env(1) settings without ipctrace.
TEST_F(RepeatedSignals, TheCommandGetsTheDispositionsIpctraceWasGiven) {
    const std::vector<std::vector<std::string>> settings = {
        {},                                                           // as started by this test
        {"--ignore-signal=INT"},                                      // nohup-like: SIGINT ignored
        {"--ignore-signal=HUP,QUIT", "--block-signal=USR1,TERM"},     // ignored and blocked ones
        {"--default-signal=INT", "--block-signal=INT,HUP,CHLD"}};     // the stop signals blocked
    for (const auto& env_args : settings) {
        std::string label;
        for (const auto& a : env_args) label += a + " ";
        SCOPED_TRACE("env " + label);
        std::vector<std::string> direct = {"env"};
        direct.insert(direct.end(), env_args.begin(), env_args.end());
        direct.insert(direct.end(), {"cat", "/proc/self/status"});
        std::vector<std::string> traced = {"env"};
        traced.insert(traced.end(), env_args.begin(), env_args.end());
        traced.insert(traced.end(), {ipctrace_bin(), "trace", "-o", "/dev/null", "--", "cat", "/proc/self/status"});

        started_.push_back(std::make_unique<Background>(direct));
        Background& d = *started_.back();
        ASSERT_TRUE(wait_for_end(d));
        started_.push_back(std::make_unique<Background>(traced));
        Background& t = *started_.back();
        ASSERT_TRUE(wait_for_end(t));
        ASSERT_TRUE(WIFEXITED(t.status()) && WEXITSTATUS(t.status()) == 0) << describe_status(t.status()) << t.err();
        const auto want = signal_masks(d.out()), got = signal_masks(t.out());
        ASSERT_EQ(want.size(), 2u) << d.out();
        EXPECT_EQ(got, want) << "the command's /proc/self/status:\n" << t.out();
    }
    expect_nothing_left();
}

}  // namespace
}  // namespace ipctrace::testing
