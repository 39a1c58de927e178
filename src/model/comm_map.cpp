#include "model/comm_map.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "common/format.h"
#include "common/mechanisms.h"

namespace ipctrace {
namespace {

// A FIFO by its path; a POSIX object by the name its program opened: the path within the
// mqueue filesystem is the name, and shm_open("/x") is the file /dev/shm/x.
std::string object_name(Mechanism m, const std::string& path) {
    constexpr std::string_view dev_shm = "/dev/shm/";
    if (m == MECH_POSIX_SHM && path.size() > dev_shm.size() && path.compare(0, dev_shm.size(), dev_shm) == 0)
        return path.substr(dev_shm.size() - 1);
    return path;
}

// A named object's label: a memfd is "memfd:NAME" (its file has no directory), the rest
// "mechanism:name".
std::string named_label(Mechanism m, const std::string& path) {
    constexpr std::string_view memfd = "/memfd:";
    if (m == MECH_POSIX_SHM && path.compare(0, memfd.size(), memfd) == 0) return path.substr(1);
    return std::string(mechanism_key(m)) + ":" + object_name(m, path);
}

// The process that made a shared anonymous region: it exists before fork(), so it is the
// users' common parent when that parent never touched it, else the user the others descend
// from; the lowest pid when the tree says neither.
pid_t anon_creator(const Snapshot& snap, const std::vector<ObjectUser>& users) {
    auto ppid = [&](pid_t pid) {
        const auto it = snap.procs.find(pid);
        return it != snap.procs.end() ? it->second.ppid : 0;
    };
    auto descends = [&](pid_t pid, pid_t from) {
        for (int depth = 0; pid > 1 && depth < 64; ++depth, pid = ppid(pid))
            if (pid == from) return true;
        return false;
    };
    for (const auto& candidate : users) {
        bool all = true;
        for (const auto& u : users) all = all && descends(u.pid, candidate.pid);
        if (all) return candidate.pid;
    }
    const pid_t parent = users.empty() ? 0 : ppid(users.front().pid);
    bool common = parent > 0;
    for (const auto& u : users) common = common && ppid(u.pid) == parent;
    return common ? parent : users.empty() ? 0 : users.front().pid;
}

// Decodes the numbers of bpf/object_id.h.
std::string object_label(Mechanism m, uint64_t object) {
    const std::string key(mechanism_key(m));
    switch (m) {
        case MECH_PIPE:
        case MECH_FIFO:
        case MECH_POSIX_MQ:
        case MECH_FILE:
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_POSIX_SHM:
        case MECH_MMAP_FILE:
        case MECH_MMAP_ANON:
            return fmt("%s:[%llu]", key.c_str(), ipc_mapping_id_inode(object));
        case MECH_SYSV_SHM:
        case MECH_SYSV_SEM:
        case MECH_SYSV_MSG:
            return fmt("%s:id %llu", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_TCP:
        case MECH_UDP:
            if (ipc_inet_id_is_connection(object))
                return fmt("%s:port %llu<->%llu", key.c_str(), ipc_inet_id_low_port(object), ipc_inet_id_high_port(object));
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_SIGNAL: {
            // kill(2)'s pid: a process, or (0, -1, -PGID) a group of them.
            const auto pid = static_cast<pid_t>(object);
            if (pid > 0) return fmt("signal:to pid %d", pid);
            if (pid == 0) return "signal:to the sender's process group";
            if (pid == -1) return "signal:to every process";
            return fmt("signal:to process group %d", -pid);
        }
        case MECH_CROSS_MEMORY:
            return fmt("cross_memory:pid %d", static_cast<pid_t>(object));  // process_vm_readv/writev's pid
        case MECH_UNIX_STREAM:
        case MECH_UNIX_DGRAM:
            // The socket inodes `ss -x` and /proc/PID/fd show: the pair, or a lone socket.
            if (ipc_unix_id_is_pair(object))
                return fmt("%s:[%llu<->%llu]", key.c_str(), ipc_unix_id_first(object), ipc_unix_id_second(object));
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        default:
            // an eventfd is a kernel object without a number of its own
            return fmt("%s:#%04llx", key.c_str(), ipc_eventfd_id_tag(object));
    }
}

std::string comm_of(const Snapshot& snap, pid_t pid) {
    const auto it = snap.procs.find(pid);
    return it != snap.procs.end() ? it->second.comm : "?";
}

// A call on a unix socket whose peer had closed is counted under that socket's inode alone
// (the kernel cannot name the pair any more): give it to the one pair holding that inode.
std::map<std::pair<Mechanism, uint64_t>, uint64_t> unix_orphans(const Snapshot& snap) {
    std::map<std::pair<Mechanism, uint64_t>, std::set<uint64_t>> pairs_of;  // (mechanism, inode) -> pairs
    for (const auto& [key, use] : snap.objects) {
        const auto& [pid, mech, object] = key;
        if ((mech == MECH_UNIX_STREAM || mech == MECH_UNIX_DGRAM) && ipc_unix_id_is_pair(object)) {
            pairs_of[{mech, ipc_unix_id_first(object)}].insert(object);
            pairs_of[{mech, ipc_unix_id_second(object)}].insert(object);
        }
    }
    std::map<std::pair<Mechanism, uint64_t>, uint64_t> out;
    for (const auto& [ino, pairs] : pairs_of)
        if (pairs.size() == 1) out[ino] = *pairs.begin();
    return out;
}

// The "passed fd" edges of a socket: each process that sent descriptors through it to each that
// received some. Its calls are the data edge's, so a link that folds both counts them once.
void add_passed_fd_edges(CommMap& map, const SharedObject& o) {
    for (const auto& w : o.users)
        for (const auto& r : o.users) {
            if (w.pid == r.pid || !w.use.fds_sent || !r.use.fds_received) continue;
            Edge e{w.pid, r.pid, w.comm, r.comm, o.mechanism, o.object, o.label, 0, w.use.calls + r.use.calls, true};
            e.passed_fd = true;
            e.fds_passed = std::min(w.use.fds_sent, r.use.fds_received);
            map.edges.push_back(std::move(e));
        }
}

// process_vm_readv/writev: the object is the pid whose memory was read or written. Its edges run
// the way the bytes went: from that pid to the reader, from the writer to that pid; a caller
// that moved no bytes (calls of 0 bytes) still links to the pid, undirected.
void cross_memory_edges(const Snapshot& snap, const SharedObject& o, std::vector<Edge>& edges) {
    const auto target = static_cast<pid_t>(o.object);
    if (target <= 0) return;
    const std::string target_comm = comm_of(snap, target);
    for (const auto& u : o.users) {
        if (u.pid == target) continue;  // a process reading its own memory links no one
        if (u.use.bytes_out)
            edges.push_back({target, u.pid, target_comm, u.comm, o.mechanism, o.object, o.label, u.use.bytes_out, u.use.calls, true});
        if (u.use.bytes_in)
            edges.push_back({u.pid, target, u.comm, target_comm, o.mechanism, o.object, o.label, u.use.bytes_in, u.use.calls, true});
        if (!u.use.bytes_in && !u.use.bytes_out)
            edges.push_back({u.pid, target, u.comm, target_comm, o.mechanism, o.object, o.label, 0, u.use.calls, false});
    }
}

// Merges `use` into `into` (the same process on the same object under two numbers).
void add_use(ObjectStats& into, const ObjectStats& use) { into += use; }

}  // namespace

bool is_mapping_mechanism(Mechanism m) {
    return m == MECH_SYSV_SHM || m == MECH_POSIX_SHM || m == MECH_MMAP_FILE || m == MECH_MMAP_ANON;
}

CommMap build_comm_map(const Snapshot& snap) {
    const auto orphans = unix_orphans(snap);
    std::map<std::tuple<Mechanism, uint64_t, pid_t>, ObjectStats> uses;
    for (const auto& [key, use] : snap.objects) {
        const auto& [pid, mech, object] = key;
        const auto pair = orphans.find({mech, object});
        add_use(uses[{mech, pair != orphans.end() ? pair->second : object, pid}], use);
    }
    std::map<std::pair<Mechanism, uint64_t>, SharedObject> by_object;
    for (const auto& [key, use] : uses) {
        const auto& [mech, object, pid] = key;
        SharedObject& o = by_object[{mech, object}];
        o.mechanism = mech;
        o.object = object;
        o.users.push_back({pid, comm_of(snap, pid), use});
    }
    CommMap map;
    for (auto& [key, o] : by_object) {
        const auto name = snap.object_names.find({o.mechanism, o.object});
        std::sort(o.users.begin(), o.users.end(), [](const ObjectUser& a, const ObjectUser& b) { return a.pid < b.pid; });
        if (name != snap.object_names.end())
            o.label = named_label(o.mechanism, name->second);
        else if (o.mechanism == MECH_MMAP_ANON)
            o.label = fmt("anon-shared@%d", anon_creator(snap, o.users));
        else
            o.label = object_label(o.mechanism, o.object);
        if (o.mechanism == MECH_SYSV_SHM) o.inode = o.object;  // the segment's shmem inode is its id
        else if (is_mapping_mechanism(o.mechanism)) o.inode = ipc_mapping_id_inode(o.object);
        if (o.mechanism == MECH_SIGNAL) {
            // The object is the receiver: each sender -> that pid. A group (kill(-PGID), 0, -1) is
            // no process of the map: the object lists its senders, without an edge.
            if (static_cast<pid_t>(o.object) > 0)
                for (const auto& u : o.users)
                    map.edges.push_back({u.pid, static_cast<pid_t>(o.object), u.comm, comm_of(snap, static_cast<pid_t>(o.object)),
                                         o.mechanism, o.object, o.label, 0, u.use.calls, true});
        } else if (o.mechanism == MECH_CROSS_MEMORY) {
            cross_memory_edges(snap, o, map.edges);
        } else {
            bool data = false;
            for (const auto& u : o.users) data = data || u.use.bytes_in || u.use.bytes_out;
            for (const auto& w : o.users)
                for (const auto& r : o.users) {
                    if (w.pid == r.pid) continue;
                    if (data && w.use.bytes_in && r.use.bytes_out)
                        map.edges.push_back({w.pid, r.pid, w.comm, r.comm, o.mechanism, o.object, o.label, std::min(w.use.bytes_in, r.use.bytes_out),
                                             w.use.calls + r.use.calls, true});
                    else if (!data && w.pid < r.pid)
                        map.edges.push_back({w.pid, r.pid, w.comm, r.comm, o.mechanism, o.object, o.label, 0, w.use.calls + r.use.calls, false,
                                             w.use.page_faults, r.use.page_faults, w.use.sync_calls + r.use.sync_calls});
                }
            add_passed_fd_edges(map, o);
        }
        map.objects.push_back(std::move(o));
    }
    auto calls = [](const SharedObject& o) {
        uint64_t n = 0;
        for (const auto& u : o.users) n += u.use.calls + u.use.sync_calls + u.use.page_faults;
        return n;
    };
    std::stable_sort(map.objects.begin(), map.objects.end(), [&](const SharedObject& a, const SharedObject& b) { return calls(a) > calls(b); });
    std::stable_sort(map.edges.begin(), map.edges.end(), [](const Edge& a, const Edge& b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.calls > b.calls;
    });
    return map;
}

namespace {

void merge_into(Link& into, const Link& from) {
    bool new_object = false;
    for (const auto& o : from.objects)
        if (std::find(into.objects.begin(), into.objects.end(), o) == into.objects.end()) {
            into.objects.push_back(o);
            new_object = true;
        }
    // The hub (right) faulted once in an object all the group's members share: count it once.
    if (new_object) into.faults_right += from.faults_right;
    into.bytes_right += from.bytes_right;
    into.bytes_left += from.bytes_left;
    into.calls += from.calls;
    into.sync_calls += from.sync_calls;
    into.fds_passed += from.fds_passed;
    into.faults_left += from.faults_left;
    into.to_right = into.to_right || from.to_right;
    into.to_left = into.to_left || from.to_left;
    into.shared = into.shared || from.shared;
}

}  // namespace

Link reversed(const Link& l) {
    Link r = l;
    r.left = {l.right};
    r.left_comm = l.right_comm;
    r.right = l.left.front();
    r.right_comm = l.left_comm;
    r.bytes_right = l.bytes_left;
    r.bytes_left = l.bytes_right;
    r.to_right = l.to_left;
    r.to_left = l.to_right;
    r.faults_left = l.faults_right;
    r.faults_right = l.faults_left;
    return r;
}

std::vector<Link> fold_comm_map(const CommMap& map, bool fold_processes) {
    // Edges -> one link per (lower pid, higher pid, mechanism); an object's calls count once.
    std::map<std::tuple<pid_t, pid_t, Mechanism>, Link> pairs;
    for (const auto& e : map.edges) {
        const bool forward = e.from < e.to;
        Link& l = pairs[{std::min(e.from, e.to), std::max(e.from, e.to), e.mechanism}];
        if (l.left.empty()) {
            l.left = {forward ? e.from : e.to};
            l.left_comm = forward ? e.from_comm : e.to_comm;
            l.right = forward ? e.to : e.from;
            l.right_comm = forward ? e.to_comm : e.from_comm;
            l.mechanism = e.mechanism;
        }
        const std::pair<uint64_t, std::string> object{e.object, e.via};
        if (std::find(l.objects.begin(), l.objects.end(), object) == l.objects.end()) {
            l.objects.push_back(object);
            l.calls += e.calls;  // both ends' calls on the object, the same on both of its edges
            l.sync_calls += e.sync_calls;
            l.faults_left += forward ? e.from_faults : e.to_faults;
            l.faults_right += forward ? e.to_faults : e.from_faults;
        }
        l.fds_passed += e.fds_passed;
        if (!e.directed)
            l.shared = true;
        else if (forward) {
            l.to_right = true;
            l.bytes_right += e.bytes;
        } else {
            l.to_left = true;
            l.bytes_left += e.bytes;
        }
    }
    std::vector<Link> links;
    if (!fold_processes) {
        for (auto& [key, l] : pairs) links.push_back(std::move(l));
    } else {
        // A link can fold on either end: as one of several processes named alike around a hub.
        // Each link goes to the side with the larger group; groups of one stay as they are.
        using Group = std::tuple<pid_t, Mechanism, std::string>;  // hub, mechanism, the others' name
        std::map<Group, size_t> size;
        for (const auto& [key, l] : pairs) {
            ++size[{l.right, l.mechanism, l.left_comm}];
            ++size[{l.left.front(), l.mechanism, l.right_comm}];
        }
        std::map<Group, std::vector<Link>> groups;
        for (const auto& [key, l] : pairs) {
            const Group at_right{l.right, l.mechanism, l.left_comm}, at_left{l.left.front(), l.mechanism, l.right_comm};
            if (size[at_left] > size[at_right])
                groups[at_left].push_back(reversed(l));  // the hub on the right
            else
                groups[at_right].push_back(l);
        }
        for (auto& [group, members] : groups) {
            if (members.size() == 1) {
                links.push_back(std::move(members.front()));
                continue;
            }
            Link folded = members.front();
            folded.objects.clear();
            folded.bytes_right = folded.bytes_left = folded.calls = 0;
            folded.faults_left = folded.faults_right = folded.sync_calls = folded.fds_passed = 0;
            folded.to_right = folded.to_left = folded.shared = false;
            folded.left.clear();
            for (const auto& m : members) {
                folded.left.push_back(m.left.front());
                merge_into(folded, m);
            }
            std::sort(folded.left.begin(), folded.left.end());
            links.push_back(std::move(folded));
        }
    }
    std::stable_sort(links.begin(), links.end(), [](const Link& a, const Link& b) {
        const uint64_t ba = a.bytes_right + a.bytes_left, bb = b.bytes_right + b.bytes_left;
        const uint64_t ca = a.calls + a.sync_calls + a.faults_left + a.faults_right, cb = b.calls + b.sync_calls + b.faults_left + b.faults_right;
        return ba != bb ? ba > bb : ca > cb;
    });
    return links;
}

}  // namespace ipctrace
