// Issue 5: `ipctrace trace` on software it did not write, under the real probes. The oracles:
// strace watching the very same run (-y names each fd's file), byte counts fixed by the
// command (dd), the bundled workloads' own counts, and exit statuses.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cli/cgroup_path.h"
#include "common/mechanisms.h"
#include "subprocess.h"
#include "temp_path.h"
#include "trace_background.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::vector<std::string> trace_argv(std::vector<std::string> args) {
    args.insert(args.begin(), {ipctrace_bin(), "trace"});
    return args;
}

unsigned long get_u(const json& j, const char* key) { return j.contains(key) ? j[key].get<unsigned long>() : 0; }

// What strace -f -y saw of pipe calls, per syscall: completed calls and their bytes.
struct StracePipeCalls {
    std::map<std::string, unsigned long> calls, bytes;
    std::set<long> pids;  // every process strace followed
};

StracePipeCalls strace_pipe_calls(const std::string& log) {
    // "123 read(0<pipe:[4567]>, "..."..., 4096) = 10", "123 read(0<pipe:[4567]>,  <unfinished ...>",
    // "123 <... read resumed>"..."..., 4096) = 10"; a call whose result is "?" never returned.
    static const std::regex start(R"(^(\d+)\s+([a-z0-9_]+)\((.*)$)");
    static const std::regex resumed(R"(^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>(.*)$)");
    static const std::regex result(R"(\) += (-?\d+|\?))");
    static const std::set<std::string> data_calls = {"read", "write", "readv", "writev", "pread64", "pwrite64", "splice", "tee"};
    StracePipeCalls out;
    std::map<long, std::string> pending;  // pid -> pipe call waiting for its result
    auto finish = [&](const std::string& name, const std::string& tail) {
        std::smatch r;
        if (!std::regex_search(tail, r, result) || r[1] == "?") return;
        ++out.calls[name];
        if (name != "pipe" && name != "pipe2" && r[1].str()[0] != '-') out.bytes[name] += std::stoul(r[1]);
    };
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, resumed)) {
            const long pid = std::stol(m[1]);
            out.pids.insert(pid);
            if (pending.count(pid)) finish(pending[pid], m[3]);
            pending.erase(pid);
        } else if (std::regex_search(line, m, start)) {
            const long pid = std::stol(m[1]);
            out.pids.insert(pid);
            const std::string name = m[2], args = m[3];
            const bool on_pipe = name == "pipe" || name == "pipe2" ||
                                 (data_calls.count(name) && std::regex_search(args, std::regex(R"(^\d+<pipe:\[)")));
            if (!on_pipe) continue;
            if (line.find("<unfinished ...>") != std::string::npos) pending[pid] = name;
            else finish(name, args);
        } else if (line.find(" +++ ") != std::string::npos || line.find(" --- ") != std::string::npos) {
            out.pids.insert(std::stol(line));
        }
    }
    return out;
}

TEST(TraceCommand, PipelinePipeCallsEqualWhatStraceSawInTheSameRun) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath report("pipeline-json"), log("pipeline-strace");
    // ipctrace traces strace and everything it runs; strace, inside, names each fd's file.
    const CommandResult r = run(trace_argv({"--json", "-o", report.str(), "--", "strace", "-f", "-y", "-qq", "-o", log.str(), "sh",
                                            "-c", "ps -ef | grep root | cut -b 1-20"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("root"), std::string::npos) << "the pipeline's own output";
    const json doc = parse(report.read());
    const StracePipeCalls st = strace_pipe_calls(log.read());
    ASSERT_GE(st.pids.size(), 4u) << "sh, ps, grep, cut";

    // The processes strace followed, as the probes counted them.
    std::map<std::string, unsigned long> traced_calls, traced_bytes;
    for (const auto& p : doc["processes"]) {
        const long pid = p["pid"].get<long>();
        if (!p["mechanisms"].contains("pipe")) continue;
        for (const auto& [name, c] : p["mechanisms"]["pipe"]["syscalls"].items()) {
            if (!st.pids.count(pid)) {
                // strace's own pipes (it creates a few for its startup) carry no data.
                EXPECT_TRUE(name == "pipe2" || name == "pipe") << "strace process " << pid << " did " << name << " on a pipe";
                continue;
            }
            traced_calls[name] += get_u(c, "count");
            if (name != "pipe" && name != "pipe2") traced_bytes[name] += get_u(c, "bytes_to_kernel") + get_u(c, "bytes_from_kernel");
        }
    }
    EXPECT_EQ(traced_calls, st.calls);
    EXPECT_EQ(traced_bytes, st.bytes);
    EXPECT_GE(st.calls.at("write"), 2u);
    EXPECT_GE(st.calls.at("read"), 3u);
    EXPECT_EQ(st.calls.at("pipe2") + (st.calls.count("pipe") ? st.calls.at("pipe") : 0), 2u) << "two pipes in the pipeline";
    EXPECT_EQ(doc["lost_events"], 0);
    EXPECT_EQ(doc["trace"]["stop_reason"], "command_exited");
}

TEST(TraceCommand, LsMakesNoIpcButItsSharedMappingsAndTheLoadersPrivateOnesAreNot) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath report("ls-json"), log("ls-strace");
    const CommandResult r = run(trace_argv({"--json", "-o", report.str(), "--", "strace", "-f", "-y", "-qq", "-o", log.str(), "-e",
                                            "trace=mmap,futex", "ls", "/"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(report.read());
    // ls's own calls, from strace: the loader's private mappings, and glibc's MAP_SHARED
    // read-only mapping of the gconv cache (a real shared file mapping).
    unsigned long private_maps = 0, shared_file_maps = 0, futexes = 0, private_futexes = 0;
    long ls_pid = 0;
    std::istringstream in(log.read());
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, std::regex(R"(^(\d+)\s+(mmap|futex)\()"))) continue;
        ls_pid = std::stol(m[1]);
        if (m[2] == "futex") {
            ++futexes;
            private_futexes += line.find("_PRIVATE") != std::string::npos;
        } else if (line.find("MAP_PRIVATE") != std::string::npos) {
            ++private_maps;
        } else if (line.find("MAP_SHARED") != std::string::npos && line.find("MAP_ANONYMOUS") == std::string::npos) {
            ++shared_file_maps;
        }
    }
    ASSERT_GT(ls_pid, 0);
    EXPECT_GE(private_maps, 5u) << "the loader maps libc and friends privately";
    const json* ls = nullptr;
    for (const auto& p : doc["processes"])
        if (p["pid"].get<long>() == ls_pid) ls = &p;
    ASSERT_NE(ls, nullptr) << "ls (pid " << ls_pid << ") is in processes[]";
    EXPECT_EQ((*ls)["comm"], "ls");
    for (const auto& [mech, m] : (*ls)["mechanisms"].items())
        if (mech == "signal")  // before its exec, strace's child stops itself: kill(self, SIGSTOP)
            EXPECT_EQ(get_u(m, "syscall_count"), m["syscalls"].contains("kill") ? get_u(m["syscalls"]["kill"], "count") : 0);
        else
            EXPECT_TRUE(mech == "mmap_file" || mech == "futex") << "ls used " << mech;
    const json& mechs = (*ls)["mechanisms"];
    EXPECT_EQ(mechs.contains("mmap_file") ? get_u(mechs["mmap_file"]["syscalls"]["mmap"], "count") : 0, shared_file_maps);
    // Process-private futexes (FUTEX_*_PRIVATE) may or may not count as IPC; shared ones do.
    const unsigned long traced_futex = mechs.contains("futex") ? get_u(mechs["futex"], "syscall_count") : 0;
    EXPECT_TRUE(traced_futex == futexes || traced_futex == futexes - private_futexes) << traced_futex << " of " << futexes;
    for (const char* m : {"mmap_anon", "posix_shm", "sysv_shm"}) EXPECT_FALSE(doc["mechanisms"].contains(m)) << m;
    EXPECT_TRUE(doc.contains("file_io")) << "ls reads its locale files: regular-file I/O, reported apart";
    EXPECT_FALSE(doc["mechanisms"].contains("file"));

    // And alone, without strace: a single process, nothing but that one shared mapping and futexes.
    TempPath alone("ls-alone");
    ASSERT_EQ(run(trace_argv({"--json", "-o", alone.str(), "--", "ls", "/"})).exit_code, 0);
    const json solo = parse(alone.read());
    EXPECT_EQ(solo["trace"]["processes_traced"], 1);
    for (const auto& [mech, m] : solo["mechanisms"].items()) EXPECT_TRUE(mech == "mmap_file" || mech == "futex") << "ls used " << mech;
    EXPECT_EQ(solo["mechanisms"].contains("mmap_file") ? get_u(solo["mechanisms"]["mmap_file"], "syscall_count") : 0, shared_file_maps);
}

TEST(TraceCommand, PassesTheExitStatusThrough) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult seven = run(trace_argv({"--", "sh", "-c", "exit 7"}));
    EXPECT_EQ(seven.exit_code, 7) << seven.err;
    EXPECT_NE(seven.err.find("the command exited with status 7"), std::string::npos) << seven.err;

    const CommandResult term = run(trace_argv({"--json", "--", "sh", "-c", "kill -TERM $$"}));
    EXPECT_EQ(term.exit_code, 143) << term.err;
    const json doc = parse(term.err);
    EXPECT_EQ(doc["trace"]["command_exit"]["signal"], SIGTERM);
    EXPECT_GE(get_u(doc["mechanisms"]["signal"]["signals"], "sent"), 1u);

    const CommandResult missing = run(trace_argv({"--", "/nonexistent"}));
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_EQ(missing.err, "ipctrace: cannot run '/nonexistent': No such file or directory\n");
    EXPECT_EQ(missing.out, "");
    TempPath plain("not-executable");  // mode 0600: not even root may execute it
    const CommandResult not_exec = run(trace_argv({"--", plain.str()}));
    EXPECT_EQ(not_exec.exit_code, 126);
    EXPECT_EQ(not_exec.err, "ipctrace: cannot run '" + plain.str() + "': Permission denied\n");
}

TEST(TraceCommand, KeepsTheStatusWhenStartedWithSigchldIgnoredAndPassesThatOn) {
    IPCTRACE_REQUIRE_ROOT();
    // perl (perl-base is essential on Debian) ignores SIGCHLD and execs ipctrace, which
    // inherits the ignored disposition; the command must inherit it too.
    // grep exits 0 when SIGCHLD (bit 16 of SigIgn) is ignored in itself, 1 when not.
    std::vector<std::string> argv = {"perl", "-e", "$SIG{CHLD} = 'IGNORE'; exec @ARGV or exit 99"};
    for (const auto& a : trace_argv({"--", "grep", "-qE", "^SigIgn:\\s*[0-9a-f]*[13579bdf][0-9a-f]{4}$", "/proc/self/status"}))
        argv.push_back(a);
    const CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("the command exited with status 0"), std::string::npos) << r.err;
}

// As strace -c: the command owns stdout; the report goes to stderr, or to -o FILE.
TEST(TraceCommand, TheCommandOwnsStdoutTheReportGoesToStderrOrTheFile) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run(trace_argv({"--", "sh", "-c", "echo hello from the command"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello from the command\n");
    EXPECT_EQ(r.err.rfind("ipctrace trace: command sh -c", 0), 0u) << r.err;

    // Issue 17's case, with and without "--": stdout is exactly the command's, stderr one JSON document.
    for (const auto& args : {std::vector<std::string>{"--json", "--", "sh", "-c", "echo hi"},
                             std::vector<std::string>{"--json", "sh", "-c", "echo hi"}}) {
        const CommandResult j = run(trace_argv(args));
        ASSERT_EQ(j.exit_code, 0) << j.err;
        EXPECT_EQ(j.out, "hi\n");
        const json doc = json::parse(j.err, nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << "stderr is one JSON document: " << j.err;
        EXPECT_EQ(doc["trace"]["target"]["command"][0], "sh");
        EXPECT_EQ(doc["trace"]["command_exit"]["code"], 0);
    }

    TempPath report("to-file");
    const CommandResult f = run(trace_argv({"--json", "-o", report.str(), "sh", "-c", "echo hi"}));
    EXPECT_EQ(f.exit_code, 0) << f.err;
    EXPECT_EQ(f.out, "hi\n");
    EXPECT_EQ(f.err, "");
    EXPECT_EQ(parse(report.read())["trace"]["target"]["kind"], "command");
}

TEST(TraceCommand, CommKeepsOnlyThoseProcessesAndFileIoCountsWhenAskedTo) {
    IPCTRACE_REQUIRE_ROOT();
    const unsigned long blocks = 300;
    const std::string pipeline = "dd if=/dev/zero bs=4096 count=" + std::to_string(blocks) + " 2>/dev/null | cat >/dev/null";
    const CommandResult only_cat = run(trace_argv({"--json", "--comm", "cat", "--", "sh", "-c", pipeline}));
    ASSERT_EQ(only_cat.exit_code, 0) << only_cat.err;
    const json doc = parse(only_cat.err);
    ASSERT_EQ(doc["processes"].size(), 1u) << doc["processes"].dump();
    EXPECT_EQ(doc["processes"][0]["comm"], "cat");
    EXPECT_EQ(doc["trace"]["comm"], "cat");
    EXPECT_EQ(get_u(doc["mechanisms"]["pipe"], "bytes_from_kernel"), blocks * 4096);
    EXPECT_EQ(get_u(doc["mechanisms"]["pipe"], "bytes_to_kernel"), 0u) << "dd is filtered out; cat writes to /dev/null";

    TempPath file("file-io");
    const std::string copy = "head -c 10000 /dev/zero > " + file.str() + "; cat " + file.str() + " >/dev/null";
    const json apart = parse(run(trace_argv({"--json", "--", "sh", "-c", copy})).err);
    EXPECT_FALSE(apart["mechanisms"].contains("file"));
    EXPECT_GE(get_u(apart["file_io"], "bytes_to_kernel"), 10000u);
    const json counted = parse(run(trace_argv({"--json", "--include-file-io", "--", "sh", "-c", copy})).err);
    EXPECT_FALSE(counted.contains("file_io"));
    EXPECT_GE(get_u(counted["mechanisms"]["file"], "bytes_to_kernel"), 10000u);
    EXPECT_GE(get_u(counted["mechanisms"]["file"], "bytes_from_kernel"), 10000u);
}

TEST(TraceCommand, ACommThatIsNotUtf8StillGivesValidJson) {
    IPCTRACE_REQUIRE_ROOT();
    // The kernel names a process after its executable's file name, bytes as they are.
    const std::string link = "/tmp/ipctrace-\xff\xfe-" + std::to_string(getpid());
    ASSERT_EQ(symlink("/bin/sh", link.c_str()), 0);
    const CommandResult r = run(trace_argv({"--json", "--", link, "-c", "echo x | cat >/dev/null"}));
    unlink(link.c_str());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(r.err);
    EXPECT_TRUE(doc.contains("processes"));
}

TEST(TraceCommand, ForwardsSigtermToTheCommandAndWaitsForIt) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath report("sigterm-json");  // the command writes to stderr too: the report goes to a file
    Background trace(trace_argv({"--json", "-o", report.str(), "--", "sh", "-c", "trap 'exit 5' TERM; echo ready >&2; while :; do sleep 0.05; done"}));
    ASSERT_TRUE(trace.wait_for_stderr("ready", 5s));
    trace.signal(SIGTERM);
    const CommandResult r = trace.wait(5s);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    const json doc = parse(report.read());
    EXPECT_EQ(doc["trace"]["stop_reason"], "command_exited");
    EXPECT_EQ(doc["trace"]["command_exit"]["code"], 5);
}

TEST(TracePid, FollowsTheChildrenItForksAndStopsWhenAllExited) {
    IPCTRACE_REQUIRE_ROOT();
    const unsigned long blocks = 20000, bytes = blocks * 4096;
    // The shell waits for a line, so it forks dd and cat only once it is traced.
    Background sh({"sh", "-c", "read x; dd if=/dev/zero bs=4096 count=" + std::to_string(blocks) + " 2>/dev/null | cat >/dev/null"},
                  true);
    Background trace(trace_argv({"-p", std::to_string(sh.pid()), "--json"}));
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing pid " + std::to_string(sh.pid()), 5s));
    sh.write_stdin("go\n");
    EXPECT_EQ(sh.wait(5s).exit_code, 0);
    const CommandResult r = trace.wait(5s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(r.out);
    EXPECT_EQ(doc["trace"]["stop_reason"], "targets_exited");
    EXPECT_EQ(doc["trace"]["target"]["pids"][0], sh.pid());

    std::map<std::string, const json*> by_comm;
    for (const auto& p : doc["processes"]) {
        by_comm[p["comm"].get<std::string>()] = &p;
        EXPECT_TRUE(p["exited"].get<bool>()) << p["comm"];
    }
    ASSERT_TRUE(by_comm.count("dd") && by_comm.count("cat")) << doc["processes"].dump();
    EXPECT_EQ((*by_comm["dd"])["ppid"], sh.pid());
    const json& dd = (*by_comm["dd"])["mechanisms"]["pipe"];
    const json& cat = (*by_comm["cat"])["mechanisms"]["pipe"];
    EXPECT_EQ(get_u(dd["syscalls"]["write"], "count"), blocks);
    EXPECT_EQ(get_u(dd, "bytes_to_kernel"), bytes);
    EXPECT_EQ(get_u(cat, "bytes_from_kernel"), bytes);
    EXPECT_EQ(get_u(doc["mechanisms"]["pipe"], "bytes_to_kernel"), bytes) << "no other pipe writes";
    // The shell read its "go" line from the test's pipe too (a few bytes, one at a time).
    EXPECT_GE(get_u(doc["mechanisms"]["pipe"], "bytes_from_kernel"), bytes);
    EXPECT_LE(get_u(doc["mechanisms"]["pipe"], "bytes_from_kernel"), bytes + 3);
}

TEST(TraceAll, SeesTwoUnrelatedWorkloadsButNotItself) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath report("all-json");
    Background trace(trace_argv({"--all", "-d", "2", "--json", "-o", report.str()}));
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing all processes", 5s));
    const auto started = std::chrono::steady_clock::now();
    Background msgq({ipctrace_bin(), "run", "msgq", "--no-trace", "--json", "--count", "5000"});
    Background pipe({ipctrace_bin(), "run", "pipe", "--no-trace", "--json", "--count", "5000"});
    const CommandResult msgq_run = msgq.wait(5s), pipe_run = pipe.wait(5s);
    ASSERT_LT(std::chrono::steady_clock::now() - started, 1800ms) << "the workloads must end inside the 2 s trace";
    const CommandResult r = trace.wait(5s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(report.read());
    EXPECT_EQ(doc["trace"]["stop_reason"], "duration");
    EXPECT_EQ(doc["trace"]["target"]["kind"], "all");

    std::map<long, const json*> processes;
    for (const auto& p : doc["processes"]) processes[p["pid"].get<long>()] = &p;
    EXPECT_EQ(processes.count(trace.pid()), 0u) << "ipctrace does not trace itself";
    for (const auto& [run_result, mechanism] :
         {std::pair<const CommandResult&, std::string>{msgq_run, "sysv_msg"}, {pipe_run, "pipe"}}) {
        ASSERT_EQ(run_result.exit_code, 0) << run_result.err;
        const json w = parse(run_result.out)["workload"];
        std::map<std::string, unsigned long> traced;  // the roles' calls, by syscall
        for (const auto& pid : w["pids"]) {
            ASSERT_TRUE(processes.count(pid.get<long>())) << mechanism << " role " << pid;
            const json& mechs = (*processes[pid.get<long>()])["mechanisms"];
            ASSERT_TRUE(mechs.contains(mechanism)) << mechanism << " role " << pid << ": " << mechs.dump();
            for (const auto& [name, c] : mechs[mechanism]["syscalls"].items()) traced[name] += get_u(c, "count");
        }
        // As expect_traced_equals_workload: the workload also counts calls that are not IPC
        // by themselves (close, an openat of /proc/PID/fd) and glibc's futexes it cannot count.
        std::set<std::string> uncounted;
        for (const auto& name : w["uncounted_ops"]) uncounted.insert(name.get<std::string>());
        for (const auto& [name, n] : traced) {
            if (uncounted.count(name)) continue;
            EXPECT_EQ(n, w["ops"].contains(name) ? w["ops"][name].get<unsigned long>() : 0) << mechanism << " traced " << name;
        }
        static const std::set<std::string> by_path = {"open", "openat", "unlink", "unlinkat"};
        for (const auto& [name, n] : w["ops"].items()) {
            if (!syscall_number(name) || by_path.count(name) || uncounted.count(name)) continue;
            EXPECT_EQ(traced[name], n.get<unsigned long>()) << mechanism << ": the workload made " << n << " " << name;
        }
    }
}

TEST(TraceAll, IntervalsAreJsonLinesThatAddUpToTheFinalReport) {
    IPCTRACE_REQUIRE_ROOT();
    Background trace(trace_argv({"--all", "-d", "2", "-i", "0.5", "--json"}));
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing all processes", 5s));
    run({ipctrace_bin(), "run", "pipe", "--no-trace", "--count", "2000"});
    const CommandResult r = trace.wait(6s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(parse(line));
    ASSERT_GE(lines.size(), 4u) << r.out.substr(0, 2000);
    const json& final = lines.back();
    EXPECT_EQ(final["mode"], "trace");
    std::map<std::string, unsigned long> summed;
    uint64_t expected_start = 0;
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
        const json& l = lines[i];
        EXPECT_EQ(l["mode"], "interval");
        EXPECT_EQ(l["interval"]["index"], i);
        EXPECT_EQ(l["interval"]["start_ns"].get<uint64_t>(), expected_start) << "intervals are back to back";
        expected_start = l["interval"]["end_ns"].get<uint64_t>();
        for (const auto& [mech, m] : l["mechanisms"].items()) summed[mech] += get_u(m, "syscall_count");
    }
    EXPECT_GE(lines.size() - 1, 3u) << "2 s at 0.5 s: four intervals";
    EXPECT_EQ(expected_start, final["trace"]["duration_ns"].get<uint64_t>()) << "the last interval ends with the trace";
    std::map<std::string, unsigned long> total;
    for (const auto& [mech, m] : final["mechanisms"].items()) total[mech] = get_u(m, "syscall_count");
    EXPECT_EQ(summed, total);
    EXPECT_GE(total["pipe"], 4000u) << "the pipe workload ran inside the trace";
}

TEST(TraceAll, CtrlCStopsCleanlyWithAReport) {
    IPCTRACE_REQUIRE_ROOT();
    Background trace(trace_argv({"--all", "--top", "3"}));
    ASSERT_TRUE(trace.wait_for_stderr("Ctrl-C to stop", 5s));
    std::this_thread::sleep_for(200ms);
    trace.signal(SIGINT);
    const CommandResult r = trace.wait(5s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("ipctrace trace: all processes (but ipctrace)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("stopped by SIGINT"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PID      COMM"), std::string::npos) << r.out;
}

// A cgroup v2 directory for one test, on the system's cgroup2 mount (or one of our own).
class TempCgroup {
public:
    TempCgroup() {
        std::ifstream in("/proc/self/mountinfo");
        const std::string info((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string root;
        if (auto mounted = cgroup2_mount(info)) {
            root = *mounted;
        } else {
            own_mount_ = "/tmp/ipctrace-cgroup2-" + std::to_string(getpid());
            fs::create_directories(own_mount_);
            if (::mount("none", own_mount_.c_str(), "cgroup2", 0, nullptr) != 0) throw std::runtime_error("mount cgroup2 failed");
            root = own_mount_;
        }
        path_ = root + "/ipctrace-test-" + std::to_string(getpid());
        fs::create_directory(path_);
    }
    ~TempCgroup() {
        rmdir(path_.c_str());
        if (!own_mount_.empty()) {
            umount(own_mount_.c_str());
            rmdir(own_mount_.c_str());
        }
    }
    const std::string& path() const { return path_; }

private:
    std::string path_, own_mount_;
};

TEST(TraceCgroup, SeesOnlyTheProcessesInTheCgroup) {
    IPCTRACE_REQUIRE_ROOT();
    TempCgroup cgroup;
    const unsigned long blocks = 5000;
    // The shell moves itself into the cgroup, then waits; its children are born inside.
    Background sh({"sh", "-c", "echo $$ > " + cgroup.path() + "/cgroup.procs && echo moved >&2 && read x && dd if=/dev/zero bs=4096 count=" +
                                   std::to_string(blocks) + " 2>/dev/null | cat >/dev/null"},
                  true);
    ASSERT_TRUE(sh.wait_for_stderr("moved", 5s));
    TempPath report("cgroup-json");
    Background trace(trace_argv({"--cgroup", cgroup.path(), "--json", "-o", report.str()}));
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing cgroup", 5s));
    // Work outside the cgroup, at the same time: must not appear.
    Background outside({"sh", "-c", "dd if=/dev/zero bs=4096 count=100 2>/dev/null | cat >/dev/null"});
    sh.write_stdin("go\n");
    EXPECT_EQ(sh.wait(5s).exit_code, 0);
    outside.wait(5s);
    trace.signal(SIGINT);
    const CommandResult r = trace.wait(5s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(report.read());
    EXPECT_EQ(doc["trace"]["target"]["kind"], "cgroup");
    struct stat st {};
    ASSERT_EQ(stat(cgroup.path().c_str(), &st), 0);
    EXPECT_EQ(doc["trace"]["target"]["cgroup_id"].get<uint64_t>(), static_cast<uint64_t>(st.st_ino)) << "the cgroup v2 id";
    for (const auto& p : doc["processes"]) {
        const std::string comm = p["comm"];
        EXPECT_TRUE(comm == "sh" || comm == "dd" || comm == "cat") << comm << " is not in the cgroup";
        EXPECT_NE(p["pid"].get<long>(), outside.pid());
    }
    EXPECT_EQ(get_u(doc["mechanisms"]["pipe"], "bytes_to_kernel"), blocks * 4096) << "only the cgroup's dd";
}

// Issue 18: io_uring operations run in io-wq workers (IOSQE_ASYNC) complete outside the
// submitter's context; under --cgroup they are still the cgroup's process's, by the
// submitter's own cgroup. The oracle is uring_peer's tally of what it reaped.
TEST(TraceCgroup, IoUringOperationsInWorkersBelongToTheCgroupsProcess) {
    IPCTRACE_REQUIRE_ROOT();
    TempCgroup cgroup;
    Background sh({"sh", "-c", "echo $$ > " + cgroup.path() + "/cgroup.procs && echo moved >&2 && read x && exec " URING_PEER_BIN " 300 1000 async"},
                  true);
    ASSERT_TRUE(sh.wait_for_stderr("moved", 5s));
    TempPath report("cgroup-uring-json");
    Background trace(trace_argv({"--cgroup", cgroup.path(), "--json", "-o", report.str()}));
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing cgroup", 5s));
    sh.write_stdin("go\n");
    const CommandResult peer = sh.wait(10s);
    ASSERT_EQ(peer.exit_code, 0) << peer.err;
    trace.signal(SIGINT);
    const CommandResult r = trace.wait(5s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(report.read());
    EXPECT_NE(peer.out.find("send 300 300000\n"), std::string::npos) << peer.out;
    EXPECT_NE(peer.out.find("read 300 300000\n"), std::string::npos) << peer.out;
    const json& stream = doc["mechanisms"]["unix_stream"]["io_uring"], &pipe = doc["mechanisms"]["pipe"]["io_uring"];
    EXPECT_EQ(get_u(stream["send"], "completed"), 300u) << doc["mechanisms"].dump();
    EXPECT_EQ(get_u(stream["send"], "bytes_to_kernel"), 300000u);
    EXPECT_EQ(get_u(stream["recv"], "bytes_from_kernel"), 300000u);
    EXPECT_EQ(get_u(pipe["write"], "bytes_to_kernel"), 300000u);
    EXPECT_EQ(get_u(pipe["read"], "completed"), 300u);
    EXPECT_EQ(get_u(pipe["read"], "bytes_from_kernel"), 300000u);
}

}  // namespace
}  // namespace ipctrace::testing
