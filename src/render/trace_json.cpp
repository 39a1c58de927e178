#include "render/trace_json.h"
#include "render/comm_map_render.h"

#include "render/report_json.h"

namespace ipctrace {
namespace {

using json = nlohmann::ordered_json;

json target_to_json(const TraceTarget& t) {
    json out = {{"kind", std::string(target_key(t.kind))}};
    switch (t.kind) {
        case TraceTarget::Kind::Command: out["command"] = t.command; break;
        case TraceTarget::Kind::Pids: out["pids"] = t.pids; break;
        case TraceTarget::Kind::Cgroup:
            out["cgroup"] = t.cgroup_path;
            out["cgroup_id"] = t.cgroup_id;
            break;
        case TraceTarget::Kind::All: break;
    }
    return out;
}

json kernel_maps_json(const std::map<std::string, MapOccupancy>& maps) {
    // Every map, always: a reader need not test for a key (0 when it was not read).
    json out = json::object();
    for (const char* name : {"targets", "procs", "syscall_stats", "proc_mech_stats", "objects", "uring_ops"}) {
        const auto it = maps.find(name);
        const MapOccupancy m = it != maps.end() ? it->second : MapOccupancy{};
        out[name] = {{"entries", m.entries}, {"max_entries", m.max_entries}};
    }
    return out;
}

// `doc` with `key` inserted right after `after`, so readers meet it near the top.
json insert_after(const json& doc, const std::string& after, const std::string& key, json value) {
    json out = json::object();
    for (const auto& [k, v] : doc.items()) {
        out[k] = v;
        if (k == after) out[key] = value;
    }
    if (!out.contains(key)) out[key] = std::move(value);
    return out;
}

}  // namespace

nlohmann::ordered_json trace_to_json(const TraceReport& t) {
    json doc = report_to_json(t.report);
    if (t.interval) {
        doc["mode"] = "interval";
        return insert_after(doc, "traced", "interval",
                            {{"index", t.interval->index},
                             {"start_ns", t.interval->start_ns},
                             {"end_ns", t.interval->end_ns},
                             {"processes_active", t.processes_traced},
                             {"kernel_maps", kernel_maps_json(t.kernel_maps)}});
    }
    json trace = {{"target", target_to_json(t.target)},
                  {"duration_ns", t.duration_ns},
                  {"stop_reason", t.reason ? std::string(stop_reason_key(*t.reason)) : std::string()},
                  {"processes_traced", t.processes_traced}};
    if (t.reason == StopReason::Signal) trace["signal"] = t.signal;
    if (t.command_status) trace["command_exit"] = {{"code", t.command_status->code}, {"signal", t.command_status->signal}};
    trace["comm"] = t.comm;
    trace["top"] = t.top;
    trace["processes_folded"] = t.processes_folded;
    trace["max_procs"] = t.max_procs;
    trace["kernel_maps"] = kernel_maps_json(t.kernel_maps);
    if (t.map) doc["map"] = comm_map_json(*t.map);
    doc["mode"] = "trace";
    return insert_after(doc, "traced", "trace", trace);
}

}  // namespace ipctrace
