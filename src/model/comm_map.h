// Who talks to whom: the IPC objects traced processes shared, and the edges between them,
// built from the per-object counts of the kernel (Snapshot::objects).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/snapshot.h"

namespace ipctrace {

struct ObjectUser {
    pid_t pid = 0;
    std::string comm;
    ObjectStats use;
};

struct SharedObject {
    Mechanism mechanism = MECH_NONE;
    uint64_t object = 0;
    std::string label;  // "pipe:[56789]", "tcp:127.0.0.1:5000<->41234", "sysv_msg:id 32768", "memfd:ring", …
    std::vector<ObjectUser> users;
    // A shared mapping's object (SysV segment, POSIX shm or memfd, file, shared anonymous
    // memory): its inode, for joins with /proc/PID/maps; 0 for other objects.
    uint64_t inode = 0;
};

// The mechanisms whose objects are shared mappings: their edges carry faults per side.
bool is_mapping_mechanism(Mechanism m);

struct Edge {
    pid_t from = 0, to = 0;
    std::string from_comm, to_comm;
    Mechanism mechanism = MECH_NONE;
    uint64_t object = 0;  // the object's number (unique within the mechanism)
    std::string via;      // the object's label
    uint64_t bytes = 0;   // payload that went from `from` to `to` (0 for objects without data)
    uint64_t calls = 0;   // calls both ends made on the object
    bool directed = true; // false: both used the object (semaphores, segments) but no data flowed
    uint64_t from_faults = 0, to_faults = 0;  // page faults of each side in its mappings of the object
    uint64_t sync_calls = 0;                  // shared futex calls of both sides on words inside it
    // A "passed fd" edge: `from` sent descriptors with SCM_RIGHTS through this socket, `to`
    // received them (bpf/fd_passing.h); fds_passed is how many both ends counted.
    bool passed_fd = false;
    uint64_t fds_passed = 0;
};

struct CommMap {
    std::vector<SharedObject> objects;  // every object seen, most used first
    std::vector<Edge> edges;
};

// What the text and DOT maps print: every edge of one mechanism between two processes folded
// into one link (21 unix_stream connections between a benchmark and a server are one line),
// and, when `fold_processes`, the links of several processes of one name with the same peer
// folded into one too (10 redis-cli processes, each with its connection to redis-server).
struct Link {
    std::vector<pid_t> left;  // one process, or several with the same name
    std::string left_comm;
    pid_t right = 0;
    std::string right_comm;
    Mechanism mechanism = MECH_NONE;
    std::vector<std::pair<uint64_t, std::string>> objects;  // the objects folded (number, label), distinct
    uint64_t bytes_right = 0, bytes_left = 0;  // payload left -> right, right -> left
    uint64_t calls = 0;                        // calls on these objects by the processes of the link
    bool to_right = false, to_left = false;    // a directed edge went that way
    bool shared = false;                       // an undirected edge (no data through calls)
    uint64_t faults_left = 0, faults_right = 0;  // faults on shared mappings, by the left / right side
    uint64_t sync_calls = 0;                     // shared futex calls on those mappings
    uint64_t fds_passed = 0;                     // descriptors passed with SCM_RIGHTS, either way
};

CommMap build_comm_map(const Snapshot& snap);
// Busiest first: by bytes both ways, then calls.
std::vector<Link> fold_comm_map(const CommMap& map, bool fold_processes);

// Turns a link around: right becomes left. Only for links of one process on each side.
Link reversed(const Link& link);

}  // namespace ipctrace
