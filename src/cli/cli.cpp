#include "cli/cli.h"

#include <sstream>

#include "common/format.h"
#include "common/tool_info.h"

namespace ipctrace {
namespace {

// `ipctrace trace ls -l` as strace takes it: for a subcommand with a `command` positional, the
// first word that is not an option or an option's value starts the command, and everything after
// it is the command's. Inserting "--" there lets CLI11 hand the rest over untouched.
std::vector<std::string> separate_command(const std::vector<std::string>& args, CLI::App& app) {
    std::vector<std::string> out = args;
    CLI::App* sub = nullptr;
    size_t i = 1;
    for (; i < args.size(); ++i) {
        if (args[i].empty() || args[i][0] == '-') continue;
        const auto named = app.get_subcommands([&](CLI::App* s) { return s->get_name() == args[i]; });
        if (!named.empty()) sub = named.front();
        break;
    }
    if (!sub || !sub->get_option_no_throw("command")) return out;
    for (size_t j = i + 1; j < args.size(); ++j) {
        const std::string& a = args[j];
        if (a == "--") return out;
        if (a.size() > 1 && a[0] == '-') {
            if (a.find('=') != std::string::npos) continue;              // --opt=value
            if (a[1] != '-' && a.size() > 2) continue;                   // -p123: the value attached
            const CLI::Option* opt = sub->get_option_no_throw(a);
            if (opt && opt->get_items_expected_min() > 0 && !opt->get_positional()) ++j;  // its value is the next word
            continue;
        }
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(j), "--");
        return out;
    }
    return out;
}

}  // namespace

Cli::Cli()
    : app_{"ipctrace: where inter-process communication spends its time.\n"
           "eBPF probes count, per IPC mechanism, the syscalls, the bytes copied between user and kernel,\n"
           "the page faults, the context switches and the time in calls. Tracing needs root (or CAP_BPF\n"
           "and CAP_PERFMON).",
           "ipctrace"} {  // the name in usage lines and the man page, however it was started
    app_.set_version_flag("--version", version_text(), "Print the version, the commit, the libbpf built against and the kernel, and exit");
    app_.require_subcommand(1);
    app_.add_flag("-v,--verbose", global_.verbose, "Print libbpf's messages (the verifier log when loading fails)");

    commands_.push_back(make_list_command());
    commands_.push_back(make_run_command());
    commands_.push_back(make_compare_command());
    commands_.push_back(make_trace_command());
    for (auto& c : commands_) {
        CLI::App* sub = c->add_to(app_);
        subcommands_.emplace_back(sub, c.get());
        names_ += (names_.empty() ? "" : ", ") + sub->get_name();
    }
}

CliOutcome Cli::parse(int argc, const char* const* argv) {
    CliOutcome outcome;
    auto fail = [&](std::string message) {
        outcome.exit_code = 2;
        outcome.error = one_line(message);  // whatever CLI11 or the argument put into the text
        return outcome;
    };
    // CLI11 would only say "A subcommand is required" for a mistyped one.
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.empty() || arg[0] == '-') continue;
        const auto known = app_.get_subcommands([&](CLI::App* sub) { return sub->get_name() == arg; });
        if (known.empty()) return fail("unknown command " + quote(arg) + " (commands: " + names_ + "; see --help)");
        break;
    }
    std::vector<std::string> args(argv, argv + argc);
    args = separate_command(args, app_);
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 parses a reversed list, without argv[0]
    try {
        app_.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        std::ostringstream out, err;
        outcome.exit_code = app_.exit(e, out, err);
        outcome.out = out.str();
        return outcome;
    } catch (const CLI::CallForAllHelp& e) {
        std::ostringstream out, err;
        outcome.exit_code = app_.exit(e, out, err);
        outcome.out = out.str();
        return outcome;
    } catch (const CLI::CallForVersion& e) {
        std::ostringstream out, err;
        outcome.exit_code = app_.exit(e, out, err);
        outcome.out = out.str();
        return outcome;
    } catch (const CLI::ParseError& e) {
        return fail(std::string(e.what()) + " (see --help)");
    } catch (const std::exception& e) {  // an option's own check; never expected
        return fail(std::string(e.what()) + " (see --help)");
    }
    for (auto& [sub, command] : subcommands_)
        if (sub->parsed()) {
            outcome.command = command;
            return outcome;
        }
    return fail("no command given (see --help)");
}

}  // namespace ipctrace
