// A subcommand of ipctrace: declares its options on the CLI11 app, then runs.
// main.cpp knows only this interface; each command lives in its own file.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "common/exit_code.h"

namespace ipctrace {

struct GlobalOptions {
    bool verbose = false;
};

class Command {
public:
    virtual ~Command() = default;
    // Adds the subcommand and its options to `app`; returns the subcommand.
    virtual CLI::App* add_to(CLI::App& app) = 0;
    // Runs after a successful parse; returns the process exit code.
    virtual int execute(const GlobalOptions& global) = 0;
};

std::unique_ptr<Command> make_list_command();
std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_compare_command();
std::unique_ptr<Command> make_trace_command();

}  // namespace ipctrace
