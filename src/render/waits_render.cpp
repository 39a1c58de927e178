#include "render/waits_render.h"

#include <cinttypes>

#include "common/format.h"
#include "common/mechanisms.h"

namespace ipctrace {
namespace {

using json = nlohmann::ordered_json;

json kinds_to_json(const std::array<uint64_t, FD_KIND_COUNT>& kinds) {
    json out = json::object();
    for (unsigned k = 0; k < FD_KIND_COUNT; ++k) out[std::string(fd_kind_key(k))] = kinds[k];
    return out;
}

const MechanismFigures* find(const MechanismTable& table, Mechanism m) {
    const auto it = table.find(m);
    return it != table.end() ? &it->second : nullptr;
}

std::string kinds_text(const std::array<uint64_t, FD_KIND_COUNT>& kinds) {
    std::string out;
    for (unsigned k = 0; k < FD_KIND_COUNT; ++k)
        if (kinds[k]) out += fmt("%s%s %" PRIu64, out.empty() ? "" : ", ", std::string(fd_kind_key(k)).c_str(), kinds[k]);
    return out.empty() ? "-" : out;
}

// The waits proper: epoll_ctl is counted under `wait` too, but it does not block.
CallStats wait_calls(const MechanismFigures* wait) {
    CallStats out;
    if (!wait) return out;
    for (const auto& [nr, c] : wait->syscalls) {
        const auto rule = syscall_rule_of(nr);
        if (rule && rule->classify == CLS_WAIT) out += c;
    }
    return out;
}

}  // namespace

void add_wait_fields(json& mechanism, const MechanismFigures& m) {
    const FdPassStats& f = m.events.fds_passed;
    mechanism["wait_ns"] = m.events.waits.wait_ns;
    mechanism["ready_fds"] = m.events.waits.ready_fds;
    mechanism["fds_passed"] = {{"sent", f.sent},
                               {"received", f.received},
                               {"sent_kinds", kinds_to_json(f.sent_kinds)},
                               {"received_kinds", kinds_to_json(f.received_kinds)}};
}

json waits_to_json(const MechanismTable& table) {
    const MechanismFigures* wait = find(table, MECH_WAIT);
    const MechanismFigures* other = find(table, MECH_NONE);
    json syscalls = json::object();
    json by = json::object();
    uint64_t ready = 0;
    for (const auto& [mech, m] : table) {
        ready += m.events.waits.wait_ns;
        if (mech != MECH_NONE && m.events.waits.ready_fds) by[std::string(mechanism_key(mech))] = m.events.waits.wait_ns;
    }
    const WaitStats idle = other ? other->events.waits : WaitStats{};
    const CallStats calls = wait_calls(wait);
    return {{"syscall_count", calls.count},
            {"time_in_syscalls_ns", calls.total_ns},
            {"ready_ns", ready},
            {"by_mechanism", by},
            {"other_ns", idle.wait_ns},
            {"other_ready_fds", idle.ready_fds},
            {"idle_wait_ns", idle.idle_ns},
            {"idle_timeouts", idle.timeouts}};
}

std::string waits_to_text(const MechanismTable& table) {
    const MechanismFigures* wait = find(table, MECH_WAIT);
    const MechanismFigures* other = find(table, MECH_NONE);
    const WaitStats idle = other ? other->events.waits : WaitStats{};
    const CallStats calls = wait_calls(wait);
    if (calls.count == 0) return "";
    std::string out = fmt("\nWaits (epoll_wait, poll, select): %" PRIu64 " calls, %s blocked; each wait's time is shared equally by the "
                          "descriptors it returned ready\n",
                          calls.count, format_ns(static_cast<double>(calls.total_ns)).c_str());
    out += fmt("%-12s %13s %19s %10s\n", "MECHANISM", "TIME IN CALLS", "TIME WAITING FOR IT", "READY");
    for (const auto& [mech, m] : table) {
        if (mech == MECH_NONE || mech == MECH_WAIT || m.events.waits.ready_fds == 0) continue;
        out += fmt("%-12s %13s %19s %10" PRIu64 "\n", std::string(mechanism_key(mech)).c_str(),
                   format_ns(static_cast<double>(m.calls.total_ns)).c_str(), format_ns(static_cast<double>(m.events.waits.wait_ns)).c_str(),
                   m.events.waits.ready_fds);
    }
    if (idle.wait_ns)
        out += fmt("%-12s %13s %19s %10" PRIu64 "\n", "(not IPC)", "-", format_ns(static_cast<double>(idle.wait_ns)).c_str(), idle.ready_fds);
    out += fmt("%-12s %13s %19s %10s\n", "(idle)", "-", format_ns(static_cast<double>(idle.idle_ns)).c_str(),
               fmt("%" PRIu64 " timed out", idle.timeouts).c_str());
    return out;
}

std::string fds_passed_to_text(const MechanismTable& table) {
    std::string rows;
    for (const auto& [mech, m] : table) {
        const FdPassStats& f = m.events.fds_passed;
        if (f.sent == 0 && f.received == 0) continue;
        rows += fmt("%-12s %6" PRIu64 " %-30s %8" PRIu64 " %s\n", std::string(mechanism_key(mech)).c_str(), f.sent, kinds_text(f.sent_kinds).c_str(),
                    f.received, kinds_text(f.received_kinds).c_str());
    }
    if (rows.empty()) return "";
    return fmt("\nDescriptors passed (SCM_RIGHTS)\n%-12s %6s %-30s %8s %s\n", "MECHANISM", "SENT", "KINDS", "RECEIVED", "KINDS") + rows;
}

}  // namespace ipctrace
