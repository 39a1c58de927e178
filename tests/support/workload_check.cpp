#include "workload_check.h"

#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "subprocess.h"
#include "common/mechanisms.h"

namespace ipctrace::testing {

using nlohmann::json;

std::string WorkloadCase::name() const {
    std::string n = workload;
    for (const auto& a : args) n += "_" + a;
    for (auto& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

json run_traced(const WorkloadCase& c) {
    std::vector<std::string> argv = {ipctrace_bin(), "run", c.workload, "--json"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
    json doc = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << r.out.substr(0, 400);
    return doc;
}

StraceRun run_under_strace(const WorkloadCase& c, const std::set<std::string>& syscalls) {
    char log[] = "/tmp/ipctrace-strace-XXXXXX";
    const int fd = mkstemp(log);
    close(fd);
    std::string filter = "trace=getppid";
    for (const auto& s : syscalls) filter += "," + s;
    std::vector<std::string> argv = {"strace", "-f", "-qq", "-o", log, "-e", filter, ipctrace_bin(), "run", c.workload, "--no-trace", "--json"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult r = run(argv);
    StraceRun out;
    EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
    out.report = json::parse(r.out, nullptr, false);
    std::set<std::string> role_pids;
    if (!out.report.is_discarded())
        for (const auto& pid : out.report["workload"]["pids"]) role_pids.insert(std::to_string(pid.get<long>()));
    // "1234  semop(7, [...], 1) = 0" or "1234  read(3, <unfinished ...>": one call each;
    // "<... read resumed>" lines are the same calls. A role's last getppid() marks where its
    // measured run begins (what it did before, glibc's own set-up, is not the workload's).
    const std::regex call(R"(^(\d+)\s+([a-z_0-9]+)\()");
    std::map<std::string, std::map<std::string, unsigned long>> by_pid;
    std::set<std::string> started;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, call) || !role_pids.count(m[1])) continue;
        if (m[2] == "getppid") {
            by_pid[m[1]].clear();
            started.insert(m[1]);
        } else {
            ++by_pid[m[1]][m[2]];
        }
    }
    for (const auto& [pid, calls] : by_pid)
        for (const auto& [name, n] : calls) out.calls[name] += n;
    EXPECT_EQ(started.size(), role_pids.size()) << "no go marker from every role";
    unlink(log);
    return out;
}

std::map<std::string, unsigned long> traced_calls(const json& report) {
    std::map<std::string, unsigned long> calls;
    for (const auto& [mech, figures] : report["mechanisms"].items())
        for (const auto& [name, stats] : figures["syscalls"].items()) calls[name] += stats["count"].get<unsigned long>();
    // Regular-file calls (ftruncate of a mapped file, …) are traced too, just reported apart.
    if (report.contains("file_io"))
        for (const auto& [name, stats] : report["file_io"]["syscalls"].items()) calls[name] += stats["count"].get<unsigned long>();
    return calls;
}

std::map<std::string, unsigned long> workload_ops(const json& report) {
    std::map<std::string, unsigned long> ops;
    for (const auto& [name, n] : report["workload"]["ops"].items()) ops[name] = n.get<unsigned long>();
    return ops;
}

std::set<std::string> uncounted_ops(const json& report) {
    std::set<std::string> out;
    for (const auto& name : report["workload"]["uncounted_ops"]) out.insert(name.get<std::string>());
    return out;
}

void expect_traced_equals_workload(const json& report) {
    const auto traced = traced_calls(report);
    const auto ops = workload_ops(report);
    const auto uncounted = uncounted_ops(report);
    for (const auto& [name, n] : traced) {
        if (uncounted.count(name)) continue;
        const auto it = ops.find(name);
        EXPECT_EQ(n, it == ops.end() ? 0 : it->second) << "traced " << name << " vs the workload's own count";
    }
    static const std::set<std::string> by_path = {"open", "openat", "unlink", "unlinkat"};
    for (const auto& [name, n] : ops) {
        if (!syscall_number(name) || by_path.count(name) || uncounted.count(name)) continue;
        const auto it = traced.find(name);
        EXPECT_EQ(it == traced.end() ? 0 : it->second, n) << "the workload made " << n << " " << name << " calls";
    }
}

void expect_mechanisms(const json& report, const std::set<std::string>& expected, const std::set<std::string>& optional) {
    std::set<std::string> seen;
    for (const auto& [mech, figures] : report["mechanisms"].items())
        if (figures["syscall_count"].get<unsigned long>() > 0 && !optional.count(mech)) seen.insert(mech);
    EXPECT_EQ(seen, expected);
}

std::set<std::string> leftovers() {
    std::set<std::string> out;
    for (const auto& id : sysv_ids()) out.insert("sysv:" + id);
    for (const char* dir : {"/dev/shm", "/dev/mqueue", "/tmp"}) {
        const CommandResult r = run({"ls", "-A", dir});
        std::istringstream in(r.out);
        for (std::string name; std::getline(in, name);)
            if (std::string(dir) != "/tmp" || name.rfind("ipctrace.", 0) == 0) out.insert(std::string(dir) + "/" + name);
    }
    return out;
}

std::set<std::string> sysv_ids() {
    const CommandResult r = run({"ipcs"});
    std::set<std::string> ids;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string key, id;
        if (f >> key >> id && key.rfind("0x", 0) == 0) ids.insert(key + "/" + id);
    }
    return ids;
}

}  // namespace ipctrace::testing
