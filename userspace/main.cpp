// ipctrace: where inter-process communication spends its time.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "run_command.h"
#include "size_parse.h"
#include "workload.h"

namespace {

using namespace ipctrace;

int list_workloads() {
    std::printf("%-11s %-26s %s\n", "WORKLOAD", "MECHANISMS", "DESCRIPTION");
    for (const auto& w : workloads::all()) {
        std::string mechs;
        for (auto m : w.mechanisms) mechs += (mechs.empty() ? "" : ",") + std::string(m);
        std::printf("%-11s %-26s %s\n", std::string(w.name).c_str(), mechs.c_str(), std::string(w.description).c_str());
    }
    return 0;
}

std::optional<std::string> parse_sync(const std::string& s, workloads::Sync& out) {
    for (auto v : {workloads::Sync::Sem, workloads::Sync::Futex, workloads::Sync::Spin})
        if (workloads::to_string(v) == s) return out = v, std::nullopt;
    return "--sync must be sem, futex or spin, not '" + s + "'";
}

std::optional<std::string> parse_mode(const std::string& s, workloads::Mode& out) {
    for (auto v : {workloads::Mode::Stream, workloads::Mode::PingPong})
        if (workloads::to_string(v) == s) return out = v, std::nullopt;
    return "--mode must be stream or pingpong, not '" + s + "'";
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "ipctrace: %s\n", message.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ipctrace: where inter-process communication spends its time.\n"
                 "eBPF probes count, per IPC mechanism, the syscalls, the bytes copied between user and kernel,\n"
                 "the page faults, the context switches and the time in calls. Tracing needs root (or CAP_BPF\n"
                 "and CAP_PERFMON)."};
    app.set_version_flag("--version", "ipctrace " IPCTRACE_VERSION);
    app.require_subcommand(1);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Print libbpf's messages (the verifier log when loading fails)");

    app.add_subcommand("list", "List the bundled workloads");

    RunOptions run;
    std::string size_text, count_text, sync_text, mode_text;
    CLI::App* run_cmd = app.add_subcommand("run", "Run a bundled IPC workload under tracing and print the report");
    run_cmd->add_option("workload", run.workload, "Workload name (see 'ipctrace list')")->required();
    run_cmd->add_option("-c,--count", count_text, "Messages (round trips for ping-pong), e.g. 100000 or 100k");
    run_cmd->add_option("-s,--size", size_text, "Bytes per message, e.g. 4096, 4K, 1M (at most 1 GiB)");
    run_cmd->add_option("--sync", sync_text, "How shared-memory workloads wait: sem, futex or spin");
    run_cmd->add_option("--mode", mode_text, "stream (throughput) or pingpong (one message in flight, latency)");
    run_cmd->add_flag("--json", run.json, "Print the report as one JSON document (docs/json.md)");
    run_cmd->add_option("-o,--output", run.output, "Write the report to FILE instead of stdout");
    run_cmd->add_flag("--no-trace", [&](std::int64_t) { run.trace = false; }, "Run the workload without probes (baseline)");

    // CLI11 would only say "A subcommand is required" for a mistyped one.
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.empty() || arg[0] == '-') continue;
        const auto known = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == arg; });
        if (known.empty()) return usage_error("unknown command '" + arg + "' (commands: list, run; see --help)");
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
        return usage_error(std::string(e.what()) + " (see --help)");
    }

    if (app.got_subcommand("list")) return list_workloads();

    if (!count_text.empty()) {
        Parsed count = parse_count(count_text);
        if (auto* err = std::get_if<std::string>(&count)) return usage_error(*err);
        run.params.count = std::get<uint64_t>(count);
        if (run.params.count == 0) return usage_error("--count must be at least 1");
    }
    if (!size_text.empty()) {
        Parsed size = parse_size(size_text);
        if (auto* err = std::get_if<std::string>(&size)) return usage_error(*err);
        run.params.size = std::get<uint64_t>(size);
        if (run.params.size == 0) return usage_error("--size must be at least 1 byte");
    }
    if (!sync_text.empty())
        if (auto err = parse_sync(sync_text, run.params.sync)) return usage_error(*err);
    if (!mode_text.empty())
        if (auto err = parse_mode(mode_text, run.params.mode)) return usage_error(*err);
    run.verbose = verbose;
    return run_command(run);
}
