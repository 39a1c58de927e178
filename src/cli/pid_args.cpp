#include "cli/pid_args.h"

#include "common/number_parse.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <sstream>

namespace ipctrace {
namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// "Tgid:\t1234" of /proc/PID/status; nullopt when absent.
std::optional<pid_t> status_tgid(const std::string& status) {
    std::istringstream in(status);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Tgid:", 0) != 0) continue;
        long tgid = 0;
        std::istringstream(line.substr(5)) >> tgid;
        if (tgid > 0) return static_cast<pid_t>(tgid);
    }
    return std::nullopt;
}

}  // namespace

Expected<std::vector<pid_t>> parse_pid_list(const std::vector<std::string>& values) {
    std::vector<pid_t> pids;
    for (const auto& value : values) {
        std::string_view rest = value;
        while (true) {
            const size_t comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            const auto pid = parse_whole(item, 1, INT_MAX);
            if (!pid)
                return unexpected("-p takes process ids like 1234 or 1234,5678, not '" + std::string(item) + "'");
            if (std::find(pids.begin(), pids.end(), *pid) == pids.end()) pids.push_back(static_cast<pid_t>(*pid));
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
    }
    return pids;
}

std::optional<ProcStat> parse_proc_stat(std::string_view stat) {
    const size_t close = stat.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    // After the comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9).
    std::istringstream in{std::string(stat.substr(close + 1))};
    ProcStat out;
    long ppid = 0, skip = 0;
    if (!(in >> out.state >> ppid)) return std::nullopt;
    for (int i = 0; i < 4; ++i)
        if (!(in >> skip)) return std::nullopt;
    if (!(in >> out.flags)) return std::nullopt;
    out.ppid = static_cast<pid_t>(ppid);
    return out;
}

Expected<CheckedPids> check_pids(const std::vector<pid_t>& pids, pid_t self, const std::string& proc_root) {
    CheckedPids out;
    for (pid_t pid : pids) {
        const std::string dir = proc_root + "/" + std::to_string(pid);
        const auto stat_text = read_file(dir + "/stat");
        if (!stat_text) return unexpected("no process with pid " + std::to_string(pid));
        const auto stat = parse_proc_stat(*stat_text);
        if (!stat) return unexpected("cannot read " + dir + "/stat: unexpected format");
        // A kernel thread has no executable; kthreadd (pid 2) is the parent of them all.
        char exe[16];
        const bool no_exe = readlink((dir + "/exe").c_str(), exe, sizeof exe) < 0 && errno == ENOENT;
        if (stat->state != 'Z' && ((stat->flags & kPfKthread) || (no_exe && (stat->ppid == 2 || pid == 2))))
            return unexpected("pid " + std::to_string(pid) + " is a kernel thread: it makes no syscalls of its own to trace");
        if (stat->state == 'Z')
            return unexpected("pid " + std::to_string(pid) + " has already exited (a zombie its parent has not reaped): nothing left to trace");
        pid_t tgid = pid;
        if (const auto status = read_file(dir + "/status"))
            if (const auto t = status_tgid(*status)) tgid = *t;
        if (tgid == self) return unexpected("pid " + std::to_string(pid) + " is ipctrace itself");
        if (tgid != pid)
            out.notes.push_back("pid " + std::to_string(pid) + " is a thread of process " + std::to_string(tgid) + ": tracing process " +
                                std::to_string(tgid) + " (all its threads)");
        if (std::find(out.tgids.begin(), out.tgids.end(), tgid) == out.tgids.end()) out.tgids.push_back(tgid);
    }
    return out;
}

}  // namespace ipctrace
