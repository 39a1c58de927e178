// Ctrl-C, SIGTERM and SIGHUP: recorded, never fatal, so ipctrace can detach and write what it
// has. Once installed the handlers stay until the process exits: a second signal (coreutils
// `timeout` forwards SIGINT and then sends it to the whole process group; systemd sends
// SIGTERM to the main process and the group) only hurries the shutdown, it never kills
// ipctrace before its report. Only SIGKILL stops ipctrace without a report.
#pragma once

namespace ipctrace {

// Idempotent. The first call saves the signal state ipctrace was started with (dispositions
// and mask) for restore_original_signals().
void install_stop_handlers();
// Also records SIGQUIT (trace -- CMD passes it on to the command).
void handle_quit_signal();
bool stop_requested();
// The last signal that asked to stop (SIGINT, SIGTERM, SIGHUP), 0 if none.
int stop_signal();
// How many stop signals came so far.
int stop_count();
// Set for a stop signal that was not sent by the terminal to the whole foreground group
// (those already reached a command in that group); cleared by the call.
bool take_to_forward(int sig);
void mark_to_forward(int sig);

// The dispositions of SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD and the signal mask
// ipctrace was started with: in a forked command before exec, so it starts as it would have
// without ipctrace (as strace does). Async-signal-safe. No-op before install_stop_handlers().
void restore_original_signals() noexcept;

}  // namespace ipctrace
