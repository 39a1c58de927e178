// Issue 8: nothing leaks, nothing is lost, every bad input gets a clear answer.
//
// `ipctrace run` and `ipctrace compare` under faults: SIGINT/SIGTERM/SIGHUP at every stage,
// SIGKILL of ipctrace and of a workload role, two instances at once, no BTF, no privileges;
// and the privacy of what a run creates. After each fault the test checks that nothing
// remains: no BPF program of ipctrace's (bpftool, and the holders of each program from
// /proc/*/fdinfo), no SysV object (ipcs), no /dev/shm or /dev/mqueue entry, no
// /tmp/ipctrace.* directory, no role process (the pids whose parent was ipctrace).
//
// The fixture makes the test process a child subreaper, so roles orphaned by a killed
// ipctrace are reparented to it and reaped, and its TearDown kills, reaps and removes
// whatever a failed test left, so the next test starts clean. Like the other BPF tests these
// run serially (RUN_SERIAL): "new since the test began" is "made by this test".
// docs/reliability.md lists each fault, its test and what ipctrace does.
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ipctrace.skel.h"
#include "subprocess.h"
#include "workload_check.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// ---- small helpers ------------------------------------------------------------------

// Polls `pred` every `every` until it holds or `timeout` passes; its last answer.
bool eventually(const std::function<bool()>& pred, Ms timeout, Ms every = 5ms) {
    const auto end = Clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (Clock::now() >= end) return false;
        std::this_thread::sleep_for(every);
    }
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string last_line(const std::string& text) {
    const auto lines = lines_of(text);
    return lines.empty() ? "" : lines.back();
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::vector<std::string> dir_entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
        closedir(d);
    }
    return out;
}

std::string readlink_str(const std::string& path) {
    char buf[PATH_MAX];
    const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
}

// ---- processes ----------------------------------------------------------------------

struct ProcStat {
    char state = '?';
    pid_t ppid = 0;
    unsigned long long start = 0;  // jiffies after boot: with the pid, a process's identity
};

std::optional<ProcStat> proc_stat(pid_t pid) {
    const std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = s.rfind(')');
    if (paren == std::string::npos || paren + 2 > s.size()) return std::nullopt;
    std::istringstream in(s.substr(paren + 2));  // from field 3, the state
    ProcStat st;
    std::string skip;
    in >> st.state >> st.ppid;
    for (int field = 5; field <= 21; ++field) in >> skip;
    in >> st.start;  // field 22
    if (!in) return std::nullopt;
    return st;
}

struct ProcId {
    pid_t pid;
    unsigned long long start;
    bool operator<(const ProcId& o) const { return pid != o.pid ? pid < o.pid : start < o.start; }
};

// Still running: the same process (not a reused pid), not a zombie.
bool is_running(const ProcId& p) {
    const auto st = proc_stat(p.pid);
    return st && st->start == p.start && st->state != 'Z' && st->state != 'X';
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    for (const auto& name : dir_entries("/proc"))
        if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) out.push_back(std::stoi(name));
    return out;
}

std::vector<ProcId> children_of(pid_t parent) {
    std::vector<ProcId> out;
    for (pid_t pid : all_pids())
        if (const auto st = proc_stat(pid); st && st->ppid == parent && st->state != 'Z') out.push_back({pid, st->start});
    std::sort(out.begin(), out.end());
    return out;
}

// ---- BPF ----------------------------------------------------------------------------

// ipctrace's program names, from the skeleton itself; the kernel keeps 15 characters.
const std::set<std::string>& our_program_names() {
    static const std::set<std::string> names = [] {
        std::set<std::string> out;
        if (ipctrace_bpf* skel = ipctrace_bpf__open()) {
            bpf_program* prog = nullptr;
            bpf_object__for_each_program(prog, skel->obj) out.insert(std::string(bpf_program__name(prog)).substr(0, 15));
            ipctrace_bpf__destroy(skel);
        }
        return out;
    }();
    return names;
}

// Programs loaded now whose name is one of ipctrace's: id -> name, as bpftool lists them.
std::map<uint32_t, std::string> loaded_programs() {
    const CommandResult r = run({"bpftool", "-j", "prog", "show"});
    std::map<uint32_t, std::string> out;
    const json doc = json::parse(r.out, nullptr, false);
    if (!doc.is_array()) return out;
    for (const auto& p : doc) {
        const std::string name = p.value("name", "");
        if (p.contains("id") && our_program_names().count(name.substr(0, 15))) out[p["id"].get<uint32_t>()] = name;
    }
    return out;
}

// The BPF programs a process holds, directly or through a link (from /proc/PID/fdinfo).
std::set<uint32_t> programs_held_by(pid_t pid) {
    std::set<uint32_t> out;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& fd : dir_entries(fd_dir)) {
        const std::string target = readlink_str(fd_dir + "/" + fd);
        if (target != "anon_inode:bpf-prog" && target != "anon_inode:bpf_link") continue;
        std::istringstream info(read_text("/proc/" + std::to_string(pid) + "/fdinfo/" + fd));
        for (std::string line; std::getline(info, line);)
            if (starts_with(line, "prog_id:")) out.insert(static_cast<uint32_t>(std::stoul(line.substr(8))));
    }
    return out;
}

// Any BPF object (program, link, map, BTF) among a process's descriptors.
std::vector<std::string> bpf_fds_of(pid_t pid) {
    std::vector<std::string> out;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& fd : dir_entries(fd_dir)) {
        const std::string target = readlink_str(fd_dir + "/" + fd);
        if (starts_with(target, "anon_inode:bpf") || target == "anon_inode:btf") out.push_back(fd + " -> " + target);
    }
    return out;
}

// ---- SysV objects, as ipcs shows them ---------------------------------------------------

struct SysvObject {
    char kind;  // 'm' shared memory, 's' semaphores, 'q' message queue
    std::string key, id, owner, perms;
    std::string name() const { return std::string(1, kind) + ":" + key + "/" + id; }
    bool operator<(const SysvObject& o) const { return name() < o.name(); }
};

std::set<SysvObject> sysv_objects() {
    std::set<SysvObject> out;
    for (const char kind : {'m', 's', 'q'}) {
        const CommandResult r = run({"ipcs", std::string("-") + kind});
        for (const auto& line : lines_of(r.out)) {
            std::istringstream f(line);
            SysvObject o{kind, "", "", "", ""};
            if (f >> o.key >> o.id >> o.owner >> o.perms && starts_with(o.key, "0x")) out.insert(o);
        }
    }
    return out;
}

// ---- a background ipctrace --------------------------------------------------------------

// A command in its own process group (so a "Ctrl-C" can go to the group without reaching the
// test), stdout and stderr in files. The destructor SIGKILLs the group and reaps.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv) {
        char out_path[] = "/tmp/ipctrace-test-out-XXXXXX", err_path[] = "/tmp/ipctrace-test-err-XXXXXX";
        const int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
        if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");
        out_path_ = out_path;
        err_path_ = err_path;
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            setpgid(0, 0);
            exec_redirected(argv, out_fd, err_fd);
        }
        setpgid(pid_, pid_);  // also from here: no race with the first signal to the group
        close(out_fd);
        close(err_fd);
    }
    ~Background() {
        if (!reaped_) {
            kill(-pid_, SIGKILL);
            kill(pid_, SIGKILL);
            waitpid(pid_, &status_, 0);
        }
        unlink(out_path_.c_str());
        unlink(err_path_.c_str());
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }
    bool running() {
        if (!reaped_ && waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
        return !reaped_;
    }
    int status() const { return status_; }
    std::string out() const { return read_text(out_path_); }
    std::string err() const { return read_text(err_path_); }
    void signal(int sig) const { kill(pid_, sig); }
    void signal_group(int sig) const { kill(-pid_, sig); }

private:
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
    std::string out_path_, err_path_;
};

// ---- the fixture ----------------------------------------------------------------------

class Reliability : public ::testing::Test {
protected:
    void SetUp() override {
        IPCTRACE_REQUIRE_ROOT();
        ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        subreaper_ = true;
        objects_before_ = leftovers();
        sysv_before_ = sysv_objects();
        for (const auto& [id, name] : loaded_programs()) programs_before_.insert(id);
    }

    void TearDown() override {
        if (!subreaper_) return;
        started_.clear();  // SIGKILL and reap whatever is still running
        for (const auto& r : roles_)
            if (is_running(r)) kill(r.pid, SIGKILL);
        eventually([&] { return surviving_roles().empty(); }, 3s);
        reap_orphans();
        if (HasFailure()) remove_leftovers();
        prctl(PR_SET_CHILD_SUBREAPER, 0);
    }

    Background& start(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {ipctrace_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        started_.push_back(std::make_unique<Background>(argv));
        return *started_.back();
    }

    // Remembers ipctrace's children alive now: the workload's roles.
    std::vector<ProcId> track_roles(const Background& b) {
        auto now = children_of(b.pid());
        for (const auto& r : now)
            if (std::find_if(roles_.begin(), roles_.end(), [&](const ProcId& x) { return x.pid == r.pid && x.start == r.start; }) ==
                roles_.end())
                roles_.push_back(r);
        return now;
    }

    // Waits until ipctrace has `n` roles (they exist once the probes are attached).
    bool wait_for_roles(Background& b, size_t n, Ms timeout = 15s) {
        return eventually([&] { return track_roles(b).size() >= n || !b.running(); }, timeout, 2ms) && b.running();
    }

    // Waits for the end of `b`, remembering every role it forks meanwhile (compare forks new
    // ones for every run). False when it is still running after `timeout`.
    bool wait_for_exit(Background& b, Ms timeout = 15s) {
        return eventually(
            [&] {
                track_roles(b);
                return !b.running();
            },
            timeout, 2ms);
    }

    // Waits until `b`'s stderr contains `text`, remembering its roles.
    bool wait_for_stderr(Background& b, const std::string& text, Ms timeout = 20s) {
        return eventually(
                   [&] {
                       track_roles(b);
                       return b.err().find(text) != std::string::npos || !b.running();
                   },
                   timeout, 2ms) &&
               b.running();
    }

    std::vector<ProcId> surviving_roles() const {
        std::vector<ProcId> out;
        for (const auto& r : roles_)
            if (is_running(r)) out.push_back(r);
        return out;
    }

    // Orphaned roles were reparented to this process (subreaper): collect their exit.
    void reap_orphans() const {
        for (const auto& r : roles_) waitpid(r.pid, nullptr, WNOHANG);
    }

    // New programs with ipctrace's names held by nobody else: ours, still there.
    std::map<uint32_t, std::string> leaked_programs() const {
        std::set<pid_t> ours;
        for (const auto& b : started_) ours.insert(b->pid());
        for (const auto& r : roles_)
            if (is_running(r)) ours.insert(r.pid);
        std::map<uint32_t, std::set<pid_t>> holders;
        for (pid_t pid : all_pids())
            for (uint32_t id : programs_held_by(pid)) holders[id].insert(pid);
        std::map<uint32_t, std::string> out;
        for (const auto& [id, name] : loaded_programs()) {
            if (programs_before_.count(id)) continue;
            const auto& h = holders[id];
            const bool held_by_others = std::any_of(h.begin(), h.end(), [&](pid_t p) { return !ours.count(p); });
            if (!held_by_others) out[id] = name;  // held by our processes, or by nobody (pinned, or not yet freed)
        }
        return out;
    }

    std::set<std::string> new_objects() const {
        std::set<std::string> out;
        for (const auto& o : leftovers())
            if (!objects_before_.count(o)) out.insert(o);
        return out;
    }

    // Nothing of the runs remains, allowing `timeout` for the kernel to release the programs
    // and for orphaned roles to run their cleanup handler.
    void expect_nothing_left(Ms timeout = 3s) {
        const bool roles_gone = eventually(
            [&] {
                reap_orphans();
                return surviving_roles().empty();
            },
            timeout);
        std::string alive;
        for (const auto& r : surviving_roles()) alive += " " + std::to_string(r.pid);
        EXPECT_TRUE(roles_gone) << "role processes still running:" << alive;

        const bool programs_gone = eventually([&] { return leaked_programs().empty(); }, timeout, 50ms);
        std::string progs;
        for (const auto& [id, name] : leaked_programs()) progs += " " + std::to_string(id) + ":" + name;
        EXPECT_TRUE(programs_gone) << "ipctrace BPF programs still loaded:" << progs;

        const bool objects_gone = eventually([&] { return new_objects().empty(); }, timeout, 50ms);
        std::string objects;
        for (const auto& o : new_objects()) objects += " " + o;
        EXPECT_TRUE(objects_gone) << "left behind:" << objects;
    }

    // After a failure: remove what the test made, so the next one starts clean.
    void remove_leftovers() const {
        for (const auto& o : sysv_objects())
            if (!sysv_before_.count(o)) run({"ipcrm", std::string("-") + o.kind, o.id});
        for (const auto& o : new_objects()) {
            if (starts_with(o, "/dev/shm/") || starts_with(o, "/dev/mqueue/")) unlink(o.c_str());
            else if (starts_with(o, "/tmp/ipctrace.")) run({"rm", "-rf", o});
        }
    }

    std::vector<std::unique_ptr<Background>> started_;
    std::vector<ProcId> roles_;
    std::set<std::string> objects_before_;
    std::set<SysvObject> sysv_before_;
    std::set<uint32_t> programs_before_;
    bool subreaper_ = false;
};

// ---- stop signals to `run` ------------------------------------------------------------

enum class Moment {
    AtStart,     // as soon as ipctrace has exec'd: parsing arguments or checking the machine
    DuringLoad,  // the first BPF object exists: loading or attaching the probes
    MidWorkload  // both roles run, traced
};

struct StopCase {
    int sig;
    Moment when;
    bool group;  // to the whole process group, as Ctrl-C from a terminal: the roles get it too
};

std::string moment_name(Moment m) {
    return m == Moment::AtStart ? "AtStart" : m == Moment::DuringLoad ? "DuringLoad" : "MidWorkload";
}
void PrintTo(Moment m, std::ostream* os) { *os << moment_name(m); }

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
            ASSERT_TRUE(eventually([&] { return readlink_str("/proc/" + std::to_string(b.pid()) + "/exe") == bin; }, 5s, 0ms));
            break;
        case Moment::DuringLoad:
            ASSERT_TRUE(eventually([&] { return !bpf_fds_of(b.pid()).empty() || !b.running(); }, 10s, 0ms));
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

// ---- SIGKILL of ipctrace -------------------------------------------------------------------

class RunKilled : public Reliability, public ::testing::WithParamInterface<Moment> {};

TEST_P(RunKilled, TheKernelDropsTheProbesAndTheRolesCleanUp) {
    Background& b = start({"run", "msgq", "--count", "5M"});
    std::set<uint32_t> ours;
    if (GetParam() == Moment::DuringLoad) {
        ASSERT_TRUE(eventually([&] { return !bpf_fds_of(b.pid()).empty() || !b.running(); }, 10s, 0ms));
        ours = programs_held_by(b.pid());  // what is loaded so far
    } else {
        ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
        std::this_thread::sleep_for(300ms);
        ours = programs_held_by(b.pid());
        EXPECT_EQ(ours.size(), our_program_names().size()) << "ipctrace should hold every program it attached";
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

// ---- two instances at once ---------------------------------------------------------------------

TEST_F(Reliability, TwoInstancesAtOnceEachCountOnlyTheirOwnWorkload) {
    for (const auto& [first, second] : std::vector<std::pair<std::string, std::string>>{{"msgq", "unix"}, {"msgq", "msgq"}}) {
        SCOPED_TRACE(first + " and " + second);
        Background& a = start({"run", first, "--count", "100k", "--size", "256", "--json"});
        Background& b = start({"run", second, "--count", "100k", "--size", "256", "--json"});
        // Both trace at the same time: each one's roles appear while the other's run.
        ASSERT_TRUE(wait_for_roles(a, 2)) << a.err();
        ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
        EXPECT_TRUE(a.running() || b.running());
        ASSERT_TRUE(wait_for_exit(a));
        ASSERT_TRUE(wait_for_exit(b));
        for (Background* x : {&a, &b}) {
            ASSERT_TRUE(WIFEXITED(x->status()) && WEXITSTATUS(x->status()) == 0) << describe_status(x->status()) << x->err();
            const json doc = json::parse(x->out(), nullptr, false);
            ASSERT_FALSE(doc.is_discarded());
            const std::string w = doc["workload"]["name"].get<std::string>();
            EXPECT_TRUE(doc["workload"]["ok"].get<bool>());
            EXPECT_EQ(doc["lost_events"].get<unsigned long>(), 0u);
            expect_traced_equals_workload(doc);
            expect_mechanisms(doc, {w == "msgq" ? "sysv_msg" : "unix_stream"});
        }
    }
    expect_nothing_left();
}

// ---- the machine cannot trace ------------------------------------------------------------

// A kernel without BTF, simulated in a private mount namespace: an empty tmpfs over
// /sys/kernel/btf. The machine is untouched.
TEST_F(Reliability, MissingBtfIsOneClearLine) {
    char dir[] = "/tmp/ipctrace-test-btf-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string report = std::string(dir) + "/report.json";
    const CommandResult r = run({"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                 "mount -t tmpfs ipctrace-test-no-btf /sys/kernel/btf && exec \"$0\" run sem --count 10 --json -o \"$1\"",
                                 ipctrace_bin(), report});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err,
              "ipctrace: this kernel exposes no BTF (/sys/kernel/btf/vmlinux: No such file or directory); ipctrace needs a kernel "
              "built with CONFIG_DEBUG_INFO_BTF=y\n");
    EXPECT_EQ(r.out, "");
    struct stat st {};
    EXPECT_NE(lstat(report.c_str(), &st), 0) << "an empty report file was left behind";
    EXPECT_EQ(access("/sys/kernel/btf/vmlinux", R_OK), 0) << "the host's BTF must be untouched";
    run({"rm", "-rf", dir});
    expect_nothing_left();
}

TEST_F(Reliability, WithoutPrivilegesOneLineNamesTheMissingCapability) {
    const std::vector<std::string> nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"};
    auto as = [&](std::vector<std::string> prefix, const std::vector<std::string>& args) {
        prefix.push_back(ipctrace_bin());
        prefix.insert(prefix.end(), args.begin(), args.end());
        return run(prefix);
    };
    const CommandResult traced = as(nobody, {"run", "sem", "--count", "10"});
    ASSERT_NE(traced.exit_code, 126) << "user nobody cannot execute " << ipctrace_bin() << " (a private build directory?)";
    EXPECT_EQ(traced.exit_code, 2) << traced.err;
    EXPECT_EQ(lines_of(traced.err).size(), 1u) << traced.err;
    EXPECT_NE(traced.err.find("missing: CAP_BPF and CAP_PERFMON"), std::string::npos) << traced.err;
    EXPECT_NE(traced.err.find("--no-trace"), std::string::npos) << traced.err;
    EXPECT_EQ(traced.out, "");

    const CommandResult baseline = as(nobody, {"run", "sem", "--count", "200", "--no-trace"});
    EXPECT_EQ(baseline.exit_code, 0) << baseline.err;
    EXPECT_NE(baseline.out.find("not traced"), std::string::npos) << baseline.out;

    // Root without CAP_BPF (nor CAP_SYS_ADMIN, which would do): the one missing is named.
    const CommandResult no_bpf =
        as({"setpriv", "--bounding-set=-bpf,-sys_admin", "--inh-caps=-all"}, {"compare", "pipe", "--count", "10"});
    EXPECT_EQ(no_bpf.exit_code, 2) << no_bpf.err;
    EXPECT_EQ(lines_of(no_bpf.err).size(), 1u) << no_bpf.err;
    EXPECT_NE(no_bpf.err.find("(missing: CAP_BPF)"), std::string::npos) << no_bpf.err;
    expect_nothing_left();
}

// ---- what a run creates is private --------------------------------------------------------------

TEST_F(Reliability, OutputFileFollowsTheUmask) {
    char dir[] = "/tmp/ipctrace-test-umask-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    for (const mode_t mask : {mode_t{077}, mode_t{022}}) {
        const std::string path = std::string(dir) + "/report-" + std::to_string(mask) + ".json";
        const mode_t old = umask(mask);  // inherited by ipctrace
        const CommandResult r = run({ipctrace_bin(), "run", "sem", "--count", "100", "--json", "-o", path});
        umask(old);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        struct stat st {};
        ASSERT_EQ(stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0666 & ~mask) << "umask 0" << std::oct << mask;
        EXPECT_FALSE(json::parse(read_text(path), nullptr, false).is_discarded());
    }
    run({"rm", "-rf", dir});
    expect_nothing_left();
}

// FIFO and socket paths live in the run's own mkdtemp directory, 0700.
TEST_F(Reliability, PathsLiveInAPrivateRunDirectory) {
    for (const auto& [workload, is_type] : std::vector<std::pair<std::string, bool (*)(mode_t)>>{
             {"fifo", [](mode_t m) { return S_ISFIFO(m); }}, {"unix", [](mode_t m) { return S_ISSOCK(m); }}}) {
        SCOPED_TRACE(workload);
        Background& b = start({"run", workload, "--count", "50M", "--size", "64"});
        std::string run_dir;
        std::vector<std::string> entries;
        const bool seen = eventually(
            [&] {
                track_roles(b);
                for (const auto& o : new_objects())
                    if (starts_with(o, "/tmp/ipctrace.")) {
                        run_dir = o;
                        entries = dir_entries(o);
                        if (!entries.empty()) return true;
                    }
                return !b.running();
            },
            15s, 2ms);
        ASSERT_TRUE(seen && b.running()) << b.err();
        struct stat st {};
        ASSERT_EQ(lstat(run_dir.c_str(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0700u) << run_dir;
        EXPECT_EQ(st.st_uid, geteuid());
        for (const auto& e : entries) {
            struct stat est {};
            ASSERT_EQ(lstat((run_dir + "/" + e).c_str(), &est), 0) << e;
            EXPECT_TRUE(is_type(est.st_mode)) << run_dir << "/" << e << " mode 0" << std::oct << est.st_mode;
        }
        b.signal(SIGINT);
        ASSERT_TRUE(wait_for_exit(b));
        EXPECT_EQ(WEXITSTATUS(b.status()), 128 + SIGINT) << b.err();
    }
    expect_nothing_left();
}

// SysV objects during a run: IPC_PRIVATE (key 0x00000000) and 0600, as ipcs shows them.
TEST_F(Reliability, SysvObjectsArePrivateDuringARun) {
    for (const auto& [workload, kinds] : std::vector<std::pair<std::string, std::set<char>>>{{"shm", {'m', 's'}}, {"msgq", {'q'}}}) {
        SCOPED_TRACE(workload);
        Background& b = start({"run", workload, "--count", "50M", "--size", "64"});
        std::set<SysvObject> seen;
        const bool all_kinds = eventually(
            [&] {
                track_roles(b);
                for (const auto& o : sysv_objects())
                    if (!sysv_before_.count(o)) seen.insert(o);
                std::set<char> got;
                for (const auto& o : seen) got.insert(o.kind);
                return std::includes(got.begin(), got.end(), kinds.begin(), kinds.end()) || !b.running();
            },
            15s, 2ms);
        ASSERT_TRUE(all_kinds && b.running()) << b.err();
        for (const auto& o : seen) {
            EXPECT_EQ(o.key, "0x00000000") << o.name() << ": not IPC_PRIVATE";
            EXPECT_EQ(o.perms, "600") << o.name();
            EXPECT_EQ(o.owner, "root") << o.name();
        }
        b.signal(SIGTERM);
        ASSERT_TRUE(wait_for_exit(b));
        EXPECT_EQ(WEXITSTATUS(b.status()), 128 + SIGTERM) << b.err();
    }
    expect_nothing_left();
}

// Every workload, under strace: each object it creates is private (mode 0600 or 0700, SysV
// IPC_PRIVATE), every path is in the run directory or /dev/shm, /dev/mqueue by a run-unique
// name, and inet sockets bind to the loopback address only. Untraced runs: the same code.
TEST_F(Reliability, EveryWorkloadCreatesItsObjectsPrivately) {
    const CommandResult list = run({ipctrace_bin(), "list"});
    ASSERT_EQ(list.exit_code, 0);
    std::vector<std::string> workloads;
    for (const auto& line : lines_of(list.out)) {
        std::istringstream f(line);
        std::string name;
        if (f >> name && name != "WORKLOAD") workloads.push_back(name);
    }
    ASSERT_GE(workloads.size(), 10u);

    const std::regex mode_arg(R"((?:, |\|)(0[0-7]{3,4})[,)])");  // ", 0600)" or "S_IFIFO|0600)"
    const std::regex run_dir(R"("/tmp/ipctrace\.[A-Za-z0-9]{6}(/[^"/]+)?")");
    std::map<std::string, int> kinds_seen;
    for (const auto& w : workloads) {
        SCOPED_TRACE(w);
        char log[] = "/tmp/ipctrace-test-strace-XXXXXX";
        const int fd = mkstemp(log);
        ASSERT_GE(fd, 0);
        close(fd);
        const CommandResult r = run({"strace", "-f", "-qq", "-o", log, "-e", "trace=mkdir,openat,mknodat,mq_open,shmget,semget,msgget,bind",
                                     ipctrace_bin(), "run", w, "--no-trace", "--count", "20"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        for (const auto& line : lines_of(read_text(log))) {
            const auto call = line.find_first_not_of("0123456789 ");
            // Failed calls created nothing; a call split by another process's line is rare and
            // its halves lack the arguments or the result.
            if (call == std::string::npos || line.find(" = -1 ") != std::string::npos || line.find("unfinished") != std::string::npos ||
                line.find("resumed>") != std::string::npos)
                continue;
            const std::string text = line.substr(call);
            std::smatch m;
            const bool creates = starts_with(text, "mkdir(") || starts_with(text, "mknodat(") ||
                                 ((starts_with(text, "openat(") || starts_with(text, "mq_open(")) && text.find("O_CREAT") != std::string::npos);
            if (creates) {
                const std::string kind = text.substr(0, text.find('('));
                ++kinds_seen[kind];
                ASSERT_TRUE(std::regex_search(text, m, mode_arg)) << "no mode in: " << text;
                const unsigned mode = static_cast<unsigned>(std::stoul(m[1], nullptr, 8));
                EXPECT_EQ(mode & 077u, 0u) << "group/other access: " << text;
                const bool in_dev_shm = text.find("\"/dev/shm/") != std::string::npos;
                if (kind == "openat" && in_dev_shm) {
                    EXPECT_NE(text.find("O_EXCL"), std::string::npos) << "a /dev/shm name must be new: " << text;
                } else if (kind != "mq_open") {
                    EXPECT_TRUE(std::regex_search(text, run_dir)) << "outside the run directory: " << text;
                }
            } else if (starts_with(text, "shmget(") || starts_with(text, "semget(") || starts_with(text, "msgget(")) {
                ++kinds_seen[text.substr(0, 6)];
                EXPECT_TRUE(starts_with(text.substr(7), "IPC_PRIVATE,")) << text;
                EXPECT_NE(text.find("IPC_CREAT|0600)"), std::string::npos) << text;
            } else if (starts_with(text, "bind(")) {
                if (text.find("AF_UNIX") != std::string::npos) {
                    ++kinds_seen["bind AF_UNIX"];
                    // A path in the run directory, or an abstract name (sun_path=@"…").
                    const bool abstract = text.find("sun_path=@") != std::string::npos;
                    EXPECT_TRUE(abstract || std::regex_search(text, run_dir)) << text;
                } else if (text.find("AF_INET") != std::string::npos) {
                    ++kinds_seen["bind AF_INET"];
                    EXPECT_NE(text.find("inet_addr(\"127.0.0.1\")"), std::string::npos) << "not loopback only: " << text;
                }
            }
        }
        unlink(log);
    }
    // The audit saw every kind of object the workloads make (the patterns matched something).
    for (const char* kind : {"mkdir", "mknodat", "openat", "mq_open", "shmget", "semget", "msgget", "bind AF_UNIX", "bind AF_INET"})
        EXPECT_GT(kinds_seen[kind], 0) << kind;
    expect_nothing_left();
}

}  // namespace
}  // namespace ipctrace::testing
