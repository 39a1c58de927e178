// Who talks to whom: the IPC objects traced processes shared, and the edges between them,
// built from the per-object counts of the kernel (Snapshot::objects).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "snapshot.h"

namespace ipctrace {

struct ObjectUser {
    pid_t pid = 0;
    std::string comm;
    ObjectStats use;
};

struct SharedObject {
    Mechanism mechanism = MECH_NONE;
    uint64_t object = 0;
    std::string label;  // "pipe:[56789]", "tcp:127.0.0.1:5000<->41234", "sysv_msg:id 32768", …
    std::vector<ObjectUser> users;
};

struct Edge {
    pid_t from = 0, to = 0;
    std::string from_comm, to_comm;
    Mechanism mechanism = MECH_NONE;
    std::string via;      // the object's label
    uint64_t bytes = 0;   // payload that went from `from` to `to` (0 for objects without data)
    uint64_t calls = 0;   // calls both ends made on the object
    bool directed = true; // false: both used the object (semaphores, segments) but no data flowed
};

struct CommMap {
    std::vector<SharedObject> objects;  // every object seen, most used first
    std::vector<Edge> edges;
};

CommMap build_comm_map(const Snapshot& snap);

std::string comm_map_text(const CommMap& map, size_t max_edges);
nlohmann::ordered_json comm_map_json(const CommMap& map);
std::string comm_map_dot(const CommMap& map);

}  // namespace ipctrace
