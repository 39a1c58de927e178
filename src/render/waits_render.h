// Waits (epoll_wait, poll, select: bpf/waits.h) and descriptors passed with SCM_RIGHTS
// (bpf/fd_passing.h), as JSON fields and text sections of the report.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/report.h"

namespace ipctrace {

// A mechanism's `wait_ns`, `ready_fds` and `fds_passed`, added to its JSON figures.
void add_wait_fields(nlohmann::ordered_json& mechanism, const MechanismFigures& figures);
// The `waits` object of a report or process: the wait calls, their time split by what became
// ready (`by_mechanism`, `other_ns`) and the idle time.
nlohmann::ordered_json waits_to_json(const MechanismTable& table);
// The WAITS and PASSED DESCRIPTORS sections of the text report ("" when there were none).
std::string waits_to_text(const MechanismTable& table);
std::string fds_passed_to_text(const MechanismTable& table);

}  // namespace ipctrace
