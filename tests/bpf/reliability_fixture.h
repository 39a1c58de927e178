// The fixture and helpers of the reliability tests (test_reliability_*.cpp), issue 8:
// nothing leaks, nothing is lost, every bad input gets a clear answer.
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
//
// Here in tests/bpf, not tests/support: it reads ipctrace's program names from the BPF
// skeleton, and the support library is linked into the unit tests, which have no libbpf.
#pragma once

#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
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
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ipctrace.skel.h"
#include "schema_check.h"
#include "subprocess.h"
#include "workload_check.h"

namespace ipctrace::testing {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// ---- small helpers ------------------------------------------------------------------

// Polls `pred` every `every` until it holds or `timeout` passes; its last answer.
inline bool eventually(const std::function<bool()>& pred, Ms timeout, Ms every = 5ms) {
    const auto end = Clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (Clock::now() >= end) return false;
        std::this_thread::sleep_for(every);
    }
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

inline std::string last_line(const std::string& text) {
    const auto lines = lines_of(text);
    return lines.empty() ? "" : lines.back();
}

inline bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

inline std::vector<std::string> dir_entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
        closedir(d);
    }
    return out;
}

inline std::string readlink_str(const std::string& path) {
    char buf[PATH_MAX];
    const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

inline std::string describe_status(int status) {
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

inline std::optional<ProcStat> proc_stat(pid_t pid) {
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
inline bool is_running(const ProcId& p) {
    const auto st = proc_stat(p.pid);
    return st && st->start == p.start && st->state != 'Z' && st->state != 'X';
}

inline std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    for (const auto& name : dir_entries("/proc"))
        if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) out.push_back(std::stoi(name));
    return out;
}

inline std::vector<ProcId> children_of(pid_t parent) {
    std::vector<ProcId> out;
    for (pid_t pid : all_pids())
        if (const auto st = proc_stat(pid); st && st->ppid == parent && st->state != 'Z') out.push_back({pid, st->start});
    std::sort(out.begin(), out.end());
    return out;
}

// ---- BPF ----------------------------------------------------------------------------

// ipctrace's program names, from the skeleton itself; the kernel keeps 15 characters.
inline const std::set<std::string>& our_program_names() {
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
inline std::map<uint32_t, std::string> loaded_programs() {
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
inline std::set<uint32_t> programs_held_by(pid_t pid) {
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
inline std::vector<std::string> bpf_fds_of(pid_t pid) {
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

inline std::set<SysvObject> sysv_objects() {
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
    // The moments a stop signal is aimed at: ipctrace exec'd (`bin`: its real path), and
    // ipctrace holding its first BPF object (or already gone).
    bool wait_exec(const std::string& bin) const {
        return eventually([&] { return readlink_str("/proc/" + std::to_string(pid_) + "/exe") == bin; }, 5s, 0ms);
    }
    bool wait_loading() {
        return eventually([&] { return !bpf_fds_of(pid_).empty() || !running(); }, 10s, 0ms);
    }

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

inline std::string moment_name(Moment m) {
    return m == Moment::AtStart ? "AtStart" : m == Moment::DuringLoad ? "DuringLoad" : "MidWorkload";
}
inline void PrintTo(Moment m, std::ostream* os) { *os << moment_name(m); }
}  // namespace ipctrace::testing
