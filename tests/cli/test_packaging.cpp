// Issue 17: what a Debian user expects beside the binary. The man page is rendered by man
// itself and must name every subcommand and every option their --help prints; the bash
// completion is driven through bash's own completion machinery (compgen), with the workload
// list, the options and the pids checked against `ipctrace list`, --help and /proc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <sstream>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

std::vector<std::string> subcommands() {
    const CommandResult h = run({ipctrace_bin(), "--help"});
    std::vector<std::string> out;
    const size_t at = h.out.find("Subcommands:\n");
    std::istringstream in(h.out.substr(at == std::string::npos ? h.out.size() : at + 13));
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string name;
        if (words >> name) out.push_back(name);
    }
    return out;
}

std::set<std::string> long_options(const std::string& help) {
    static const std::regex option(R"((^|[ ,])(--[a-z][a-z0-9-]*))");
    std::set<std::string> out;
    for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) out.insert((*it)[2]);
    return out;
}

TEST(ManPage, NamesEverySubcommandAndOptionAndTheWrittenSections) {
    const CommandResult page = run({"sh", "-c", std::string("MANWIDTH=200 man -l -P cat ") + IPCTRACE_MANPAGE + " 2>&1"});
    ASSERT_EQ(page.exit_code, 0) << page.out;
    const auto subs = subcommands();
    ASSERT_GE(subs.size(), 4u);
    for (const auto& sub : subs) {
        EXPECT_NE(page.out.find("ipctrace " + sub + "\n"), std::string::npos) << "no section for " << sub;
        const CommandResult help = run({ipctrace_bin(), sub, "--help"});
        for (const auto& opt : long_options(help.out)) EXPECT_NE(page.out.find(opt), std::string::npos) << sub << " " << opt;
    }
    for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"})
        EXPECT_NE(page.out.find(std::string("\n") + section + "\n"), std::string::npos) << section;
    EXPECT_NE(page.out.find("ipctrace - where inter-process communication spends its time"), std::string::npos);
}

// COMPREPLY for the words typed so far (the last one is the word being completed).
std::set<std::string> complete(const std::vector<std::string>& typed) {
    std::string words = "'" + ipctrace_bin() + "'";
    for (const auto& w : typed) words += " '" + w + "'";
    const std::string script = std::string("source '") + IPCTRACE_COMPLETION + "' && COMP_WORDS=(" + words +
                               ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _ipctrace && printf '%s\\n' \"${COMPREPLY[@]}\"";
    const CommandResult r = run({"bash", "--norc", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.insert(line);
    return out;
}

TEST(BashCompletion, SubcommandsOptionsWorkloadsValuesAndPids) {
    const auto subs = subcommands();
    EXPECT_EQ(complete({""}), std::set<std::string>(subs.begin(), subs.end()));
    EXPECT_EQ(complete({"tr"}), std::set<std::string>{"trace"});

    // Workloads: exactly `ipctrace list`'s first column, for run and for compare.
    std::set<std::string> workloads;
    std::istringstream list(run({ipctrace_bin(), "list"}).out);
    std::string line;
    std::getline(list, line);  // the header
    while (std::getline(list, line))
        if (!line.empty()) workloads.insert(line.substr(0, line.find(' ')));
    ASSERT_GE(workloads.size(), 10u);
    EXPECT_EQ(complete({"run", ""}), workloads);
    EXPECT_EQ(complete({"compare", "shm", ""}), workloads);

    // Options: every long option of run --help that starts with --s.
    std::set<std::string> want;
    for (const auto& o : long_options(run({ipctrace_bin(), "run", "--help"}).out))
        if (o.rfind("--s", 0) == 0) want.insert(o);
    EXPECT_EQ(complete({"run", "shm", "--s"}), want);
    EXPECT_EQ(complete({"trace", "--js"}), std::set<std::string>{"--json"});

    // --sync and --mode values: each one offered is one the parser knows (a workload may still
    // not take it: shm has no lossy mode), and runs where shm takes it (one untraced message).
    const auto modes = complete({"run", "shm", "--mode", ""});
    EXPECT_TRUE(modes.count("stream") && modes.count("pingpong")) << modes.size();
    const auto syncs = complete({"run", "shm", "--sync", ""});
    EXPECT_GE(syncs.size(), 3u);
    for (const auto& [option, values] : {std::pair{"--sync", syncs}, std::pair{"--mode", modes}})
        for (const auto& v : values) {
            const CommandResult r = run({ipctrace_bin(), "run", "shm", option, v, "--count", "1", "--no-trace"});
            EXPECT_EQ(r.err.find(std::string(option) + " must be"), std::string::npos) << option << " " << v << " offered but: " << r.err;
            if (r.err.find("does not take") == std::string::npos) {
                EXPECT_EQ(r.exit_code, 0) << option << " " << v << ": " << r.err;
            }
        }

    // -p: running pids, this test's among them.
    const auto pids = complete({"trace", "-p", std::to_string(getpid())});
    EXPECT_TRUE(pids.count(std::to_string(getpid()))) << pids.size();
    // After the command's name, the words are the command's: files, not ipctrace's options.
    EXPECT_TRUE(complete({"trace", "-d", "2", "ls", "/et"}).count("/etc"));
    EXPECT_TRUE(complete({"trace", "l"}).count("ls")) << "a command name";
}

}  // namespace
}  // namespace ipctrace::testing
