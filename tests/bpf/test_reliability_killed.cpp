// Reliability: SIGKILL of ipctrace, and a workload role killed.
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "reliability_fixture.h"

namespace ipctrace::testing {
namespace {

// ---- SIGKILL of ipctrace -------------------------------------------------------------------

class RunKilled : public Reliability, public ::testing::WithParamInterface<Moment> {};

TEST_P(RunKilled, TheKernelDropsTheProbesAndTheRolesCleanUp) {
    Background& b = start({"run", "msgq", "--count", "5M"});
    std::set<uint32_t> ours;
    if (GetParam() == Moment::DuringLoad) {
        ASSERT_TRUE(b.wait_loading());
        ours = programs_held_by(b.pid());  // what is loaded so far
    } else {
        ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
        std::this_thread::sleep_for(300ms);
        ours = programs_held_by(b.pid());
        // Every program but those run does not load: on_sched_switch (compare's time budget)
        // and the io_uring ones (trace's; the bundled workloads use no ring). Names as the
        // kernel keeps them, cut at 15 characters.
        const std::set<std::string> not_run = {"on_sched_switch", "on_uring_submit", "on_uring_comple", "on_uring_overfl"};
        for (const auto& name : not_run) EXPECT_EQ(our_program_names().count(name), 1u) << name << " is a program of the object";
        EXPECT_EQ(ours.size(), our_program_names().size() - not_run.size()) << "ipctrace should hold every program it attached";
        // A fork keeps every descriptor: roles holding the links would keep the probes
        // attached after ipctrace died, for as long as they lived.
        for (const auto& r : track_roles(b)) {
            const auto fds = bpf_fds_of(r.pid);
            std::string list;
            for (const auto& f : fds) list += "\n  " + f;
            EXPECT_TRUE(fds.empty()) << "role " << r.pid << " holds BPF objects:" << list;
        }
    }
    track_roles(b);
    b.signal(SIGKILL);
    ASSERT_TRUE(wait_for_exit(b, 5s));
    EXPECT_TRUE(WIFSIGNALED(b.status()) && WTERMSIG(b.status()) == SIGKILL) << describe_status(b.status());

    // The last descriptor is gone with ipctrace: its programs within 2 s.
    const bool dropped = eventually(
        [&] {
            const auto loaded = loaded_programs();
            return std::none_of(ours.begin(), ours.end(), [&](uint32_t id) { return loaded.count(id) > 0; });
        },
        2s, 20ms);
    EXPECT_TRUE(dropped) << "ipctrace's programs outlived it";
    // The roles got SIGTERM from the kernel (parent death), removed their IPC objects, exited.
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Moments, RunKilled, ::testing::Values(Moment::DuringLoad, Moment::MidWorkload),
                         [](const ::testing::TestParamInfo<Moment>& info) { return moment_name(info.param); });

// ---- a role killed -----------------------------------------------------------------------

struct RoleKill {
    size_t victim;  // index in the roles sorted by pid (the report's pids say which role it was)
    int sig;
};

std::string kill_name(const RoleKill& k) {
    return std::string(k.victim == 0 ? "LowerPid" : "HigherPid") + "Role_SIG" + sigabbrev_np(k.sig);
}
void PrintTo(const RoleKill& k, std::ostream* os) { *os << kill_name(k); }

class RoleKilled : public Reliability, public ::testing::WithParamInterface<RoleKill> {};

TEST_P(RoleKilled, ReportedAsAFailureNamingTheRoleAndTheSignal) {
    const RoleKill& k = GetParam();
    Background& b = start({"run", "msgq", "--count", "5M", "--json"});
    ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
    std::this_thread::sleep_for(300ms);
    const auto roles = track_roles(b);
    ASSERT_EQ(roles.size(), 2u);
    const pid_t victim = roles[k.victim].pid;
    kill(victim, k.sig);
    ASSERT_TRUE(wait_for_exit(b)) << "ipctrace did not notice its role died";
    ASSERT_TRUE(WIFEXITED(b.status())) << describe_status(b.status());
    EXPECT_EQ(WEXITSTATUS(b.status()), 1) << b.err();

    const json doc = json::parse(b.out(), nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << b.out().substr(0, 300);
    EXPECT_FALSE(doc["workload"]["ok"].get<bool>());
    const auto& pids = doc["workload"]["pids"];
    ASSERT_EQ(pids.size(), 2u);
    const int index = pids[0].get<pid_t>() == victim ? 0 : 1;
    ASSERT_EQ(pids[index].get<pid_t>(), victim);
    const std::string role = "role " + std::to_string(index) + (index == 0 ? " (producer)" : " (consumer)");
    const std::string how = k.sig == SIGKILL ? "killed by SIGKILL" : std::string("stopped by SIG") + sigabbrev_np(k.sig);
    EXPECT_EQ(last_line(b.err()), "ipctrace: workload msgq failed: " + role + " " + how) << b.err();
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Roles, RoleKilled,
                         ::testing::Values(RoleKill{0, SIGKILL}, RoleKill{1, SIGKILL}, RoleKill{0, SIGTERM}, RoleKill{1, SIGTERM}),
                         [](const ::testing::TestParamInfo<RoleKill>& info) { return kill_name(info.param); });

}  // namespace
}  // namespace ipctrace::testing
