// ipctrace: where inter-process communication spends its time.
#include <cstdio>

#include "cli/cli.h"

int main(int argc, char** argv) {
    ipctrace::Cli cli;  // every subcommand is registered in cli.cpp
    const ipctrace::CliOutcome outcome = cli.parse(argc, argv);
    if (!outcome.out.empty()) std::fputs(outcome.out.c_str(), stdout);
    if (!outcome.error.empty()) return ipctrace::report_error(outcome.exit_code, outcome.error);
    if (outcome.command) return outcome.command->execute(cli.global());
    return outcome.exit_code;
}
