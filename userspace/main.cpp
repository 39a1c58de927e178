// ipctrace: where inter-process communication spends its time.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "command.h"

int main(int argc, char** argv) {
    using namespace ipctrace;
    CLI::App app{"ipctrace: where inter-process communication spends its time.\n"
                 "eBPF probes count, per IPC mechanism, the syscalls, the bytes copied between user and kernel,\n"
                 "the page faults, the context switches and the time in calls. Tracing needs root (or CAP_BPF\n"
                 "and CAP_PERFMON)."};
    app.set_version_flag("--version", "ipctrace " IPCTRACE_VERSION);
    app.require_subcommand(1);
    GlobalOptions global;
    app.add_flag("-v,--verbose", global.verbose, "Print libbpf's messages (the verifier log when loading fails)");

    std::vector<std::unique_ptr<Command>> commands;
    commands.push_back(make_list_command());
    commands.push_back(make_run_command());
    commands.push_back(make_compare_command());
    std::vector<std::pair<CLI::App*, Command*>> subcommands;
    std::string names;
    for (auto& c : commands) {
        CLI::App* sub = c->add_to(app);
        subcommands.emplace_back(sub, c.get());
        names += (names.empty() ? "" : ", ") + sub->get_name();
    }

    // CLI11 would only say "A subcommand is required" for a mistyped one.
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.empty() || arg[0] == '-') continue;
        const auto known = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == arg; });
        if (known.empty()) return report_error(2, "unknown command '" + arg + "' (commands: " + names + "; see --help)");
        break;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return report_error(2, std::string(e.what()) + " (see --help)");
    }
    for (auto& [sub, command] : subcommands)
        if (sub->parsed()) return command->execute(global);
    return report_error(2, "no command given (see --help)");
}
