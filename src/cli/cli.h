// The command line of ipctrace: every subcommand on one CLI11 app, parsed into the command
// to run, or into what to print and the exit code (help, version, a one-line error).
// Separate from main() so the fuzz target (tests/fuzz) parses exactly what ipctrace parses.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"

namespace ipctrace {

struct CliOutcome {
    Command* command = nullptr;  // parsed: run command->execute(global())
    int exit_code = 0;           // otherwise: exit with this code
    std::string out;             // help or version text, for stdout
    std::string error;           // one line for stderr, without "ipctrace: " (report_error adds it)
};

class Cli {
public:
    Cli();
    Cli(const Cli&) = delete;
    Cli& operator=(const Cli&) = delete;

    // Parses once; never throws for any argv (argv[0] is the program name).
    CliOutcome parse(int argc, const char* const* argv);
    const GlobalOptions& global() const { return global_; }

private:
    CLI::App app_;
    GlobalOptions global_;
    std::vector<std::unique_ptr<Command>> commands_;
    std::vector<std::pair<CLI::App*, Command*>> subcommands_;
    std::string names_;  // "list, run, compare, …" for the unknown-command error
};

}  // namespace ipctrace
