// Ctrl-C and SIGTERM: recorded, not fatal, so a trace can detach and print what it has.
#pragma once

namespace ipctrace {

void install_stop_handlers();
bool stop_requested();
// The signal that asked to stop (SIGINT, SIGTERM), 0 if none.
int stop_signal();

}  // namespace ipctrace
