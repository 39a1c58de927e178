// libFuzzer target: everything ipctrace parses from what a user types.
//
// The input is an argument vector, arguments separated by NUL bytes. Each argument goes
// through parse_size and parse_count; the first four are --count, --size, --sync and --mode
// as `run` and `compare` read them, resolved against every bundled workload; and the whole
// vector is parsed as ipctrace's command line (the chosen command is never executed).
//
// Besides what AddressSanitizer and UBSan catch, each input must keep ipctrace's promises:
//  - every error is one non-empty line (ipctrace prints it as "ipctrace: …" and exits 2);
//  - a parsed number survives a round trip through its decimal digits;
//  - resolved workload params are complete: count >= 1, a payload size in 1 B..1 GiB,
//    a --sync and --mode the workload accepts;
//  - the command line gives a command to run, or help/version text, or one error line.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "common/number_parse.h"
#include "workload.h"
#include "cli/workload_options.h"

namespace {

[[noreturn]] void violated(const char* promise, const std::string& detail) {
    std::fprintf(stderr, "fuzz_parse: %s: %s\n", promise, detail.c_str());
    std::abort();
}

void check_one_line(const std::string& message, const char* where) {
    if (message.empty()) violated("an error must say something", where);
    if (message.find('\n') != std::string::npos || message.find('\r') != std::string::npos)
        violated("an error must be one line", std::string(where) + ": " + message);
}

void check_number(ipctrace::Expected<uint64_t> (*parse)(std::string_view), std::string_view text, const char* flag) {
    const auto parsed = parse(text);
    if (!parsed) {
        check_one_line(parsed.error(), flag);
        if (parsed.error().find(flag) == std::string::npos) violated("an error must name its option", parsed.error());
        return;
    }
    const uint64_t value = *parsed;
    const auto again = parse(std::to_string(value));
    if (!again || *again != value)
        violated("a parsed number must survive a round trip", std::string(flag) + " '" + std::string(text) + "'");
}

template <class T>
bool accepted(const std::vector<T>& choices, T value) {
    return choices.empty() ? value == T::Default : std::find(choices.begin(), choices.end(), value) != choices.end();
}

void check_workload_options(const std::vector<std::string>& args) {
    ipctrace::WorkloadOptionText text;
    text.count = args.size() > 0 ? args[0] : "";
    text.size = args.size() > 1 ? args[1] : "";
    text.sync = args.size() > 2 ? args[2] : "";
    text.mode = args.size() > 3 ? args[3] : "";
    ipctrace::workloads::Params params;
    if (auto st = text.apply(params); !st) {
        check_one_line(st.error(), "workload options");
        return;
    }
    for (const auto& w : ipctrace::workloads::all()) {
        ipctrace::workloads::Params p = params;
        if (auto st = ipctrace::workloads::resolve(w, p); !st) {
            check_one_line(st.error(), "resolve");
            continue;
        }
        const std::string name(w.name);
        if (p.count == 0) violated("a resolved run has messages", name);
        if (w.payload && (p.size == 0 || p.size > (uint64_t{1} << 30))) violated("a resolved size is 1 B..1 GiB", name);
        if (!accepted(w.syncs, p.sync) || !accepted(w.modes, p.mode)) violated("a resolved --sync/--mode is one the workload takes", name);
    }
}

void check_command_line(const std::vector<std::string>& args) {
    std::vector<const char*> argv = {"ipctrace"};
    for (const auto& a : args) argv.push_back(a.c_str());
    ipctrace::Cli cli;
    const ipctrace::CliOutcome outcome = cli.parse(static_cast<int>(argv.size()), argv.data());
    if (outcome.command) {
        if (!outcome.error.empty() || !outcome.out.empty()) violated("a parsed command comes alone", outcome.error + outcome.out);
        return;
    }
    if (!outcome.error.empty()) {
        check_one_line(outcome.error, "command line");
        if (outcome.exit_code != 2) violated("bad input exits 2", outcome.error);
    } else if (outcome.out.empty()) {
        violated("no command, no text, no error", std::to_string(args.size()) + " arguments");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) return 0;  // a command line, not a file
    std::vector<std::string> args(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\0') args.emplace_back();
        else args.back() += static_cast<char>(data[i]);
    }
    if (args.size() > 64) return 0;

    for (const auto& a : args) {
        check_number(ipctrace::parse_size, a, "--size");
        check_number(ipctrace::parse_count, a, "--count");
    }
    check_workload_options(args);
    check_command_line(args);
    return 0;
}
