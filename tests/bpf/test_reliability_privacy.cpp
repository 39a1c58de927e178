// Reliability: what a run creates is private (the -o file's mode, the run directory, SysV
// objects, every workload's objects under strace).
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "reliability_fixture.h"

namespace ipctrace::testing {
namespace {

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
    // shm with --sync sem: the default ring has no semaphore set.
    for (const auto& [args, kinds] : std::vector<std::pair<std::vector<std::string>, std::set<char>>>{
             {{"shm", "--sync", "sem"}, {'m', 's'}}, {{"msgq"}, {'q'}}}) {
        SCOPED_TRACE(args[0]);
        std::vector<std::string> argv = {"run"};
        argv.insert(argv.end(), args.begin(), args.end());
        for (const char* a : {"--count", "50M", "--size", "64"}) argv.push_back(a);
        Background& b = start(argv);
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
        if (line.empty()) break;  // the table ends there; what follows explains --sync
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
