#include "comm_map.h"

#include <algorithm>
#include <map>
#include <set>

#include "format.h"
#include "mechanisms.h"

namespace ipctrace {
namespace {

// Matches object_of_file() in bpf/ipctrace.bpf.c.
std::string object_label(Mechanism m, uint64_t object) {
    const std::string key(mechanism_key(m));
    switch (m) {
        case MECH_PIPE:
        case MECH_FIFO:
        case MECH_POSIX_MQ:
        case MECH_POSIX_SHM:
        case MECH_FILE:
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_SYSV_SHM:
        case MECH_SYSV_SEM:
        case MECH_SYSV_MSG:
            return fmt("%s:id %llu", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_TCP:
        case MECH_UDP:
            if (object >> 32) return fmt("%s:port %llu<->%llu", key.c_str(), static_cast<unsigned long long>(object >> 48),
                                         static_cast<unsigned long long>((object >> 32) & 0xffff));
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        case MECH_SIGNAL:
            return fmt("signal:to pid %llu", static_cast<unsigned long long>(object));
        case MECH_UNIX_STREAM:
        case MECH_UNIX_DGRAM:
            // The socket inodes `ss -x` and /proc/PID/fd show: the pair, or a lone socket.
            if (object >> 32) return fmt("%s:[%llu<->%llu]", key.c_str(), static_cast<unsigned long long>(object >> 32),
                                         static_cast<unsigned long long>(object & 0xffffffff));
            return fmt("%s:[%llu]", key.c_str(), static_cast<unsigned long long>(object));
        default:
            // an eventfd is a kernel object without a number of its own
            return fmt("%s:#%04llx", key.c_str(), static_cast<unsigned long long>((object >> 6) & 0xffff));
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
        if ((mech == MECH_UNIX_STREAM || mech == MECH_UNIX_DGRAM) && object >> 32) {
            pairs_of[{mech, object >> 32}].insert(object);
            pairs_of[{mech, object & 0xffffffff}].insert(object);
        }
    }
    std::map<std::pair<Mechanism, uint64_t>, uint64_t> out;
    for (const auto& [ino, pairs] : pairs_of)
        if (pairs.size() == 1) out[ino] = *pairs.begin();
    return out;
}

// Merges `use` into `into` (the same process on the same object under two numbers).
void add_use(ObjectStats& into, const ObjectStats& use) {
    into.calls += use.calls;
    into.bytes_in += use.bytes_in;
    into.bytes_out += use.bytes_out;
}

}  // namespace

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
        o.label = object_label(o.mechanism, o.object);
        std::sort(o.users.begin(), o.users.end(), [](const ObjectUser& a, const ObjectUser& b) { return a.pid < b.pid; });
        if (o.mechanism == MECH_SIGNAL) {
            // The object is the receiver: each sender -> that pid.
            for (const auto& u : o.users)
                map.edges.push_back({u.pid, static_cast<pid_t>(o.object), u.comm, comm_of(snap, static_cast<pid_t>(o.object)), o.mechanism,
                                     o.label, 0, u.use.calls, true});
        } else {
            bool data = false;
            for (const auto& u : o.users) data = data || u.use.bytes_in || u.use.bytes_out;
            for (const auto& w : o.users)
                for (const auto& r : o.users) {
                    if (w.pid == r.pid) continue;
                    if (data && w.use.bytes_in && r.use.bytes_out)
                        map.edges.push_back({w.pid, r.pid, w.comm, r.comm, o.mechanism, o.label, std::min(w.use.bytes_in, r.use.bytes_out),
                                             w.use.calls + r.use.calls, true});
                    else if (!data && w.pid < r.pid)
                        map.edges.push_back({w.pid, r.pid, w.comm, r.comm, o.mechanism, o.label, 0, w.use.calls + r.use.calls, false});
                }
        }
        map.objects.push_back(std::move(o));
    }
    auto calls = [](const SharedObject& o) {
        uint64_t n = 0;
        for (const auto& u : o.users) n += u.use.calls;
        return n;
    };
    std::stable_sort(map.objects.begin(), map.objects.end(), [&](const SharedObject& a, const SharedObject& b) { return calls(a) > calls(b); });
    std::stable_sort(map.edges.begin(), map.edges.end(), [](const Edge& a, const Edge& b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.calls > b.calls;
    });
    return map;
}

std::string comm_map_text(const CommMap& map, size_t max_edges) {
    if (map.edges.empty()) return "\nCommunication map: no IPC object was used by two traced processes.\n";
    std::string out = "\nCommunication map (who talks to whom):\n";
    for (size_t i = 0; i < map.edges.size() && i < max_edges; ++i) {
        const Edge& e = map.edges[i];
        out += fmt("  %s[%d] %s %s[%d] via %s, %s\n", e.from_comm.c_str(), e.from, e.directed ? "->" : "<->", e.to_comm.c_str(), e.to,
                   e.via.c_str(),
                   e.bytes ? format_bytes(static_cast<double>(e.bytes)).c_str()
                           : fmt("%llu calls", static_cast<unsigned long long>(e.calls)).c_str());
    }
    if (map.edges.size() > max_edges) out += fmt("  … %zu more edges (--json or --dot has them all)\n", map.edges.size() - max_edges);
    return out;
}

nlohmann::ordered_json comm_map_json(const CommMap& map) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array(), edges = nlohmann::ordered_json::array(),
                           objects = nlohmann::ordered_json::array();
    std::set<pid_t> seen;
    auto node = [&](pid_t pid, const std::string& comm) {
        if (seen.insert(pid).second) nodes.push_back({{"pid", pid}, {"comm", comm}});
    };
    for (const auto& e : map.edges) {
        node(e.from, e.from_comm);
        node(e.to, e.to_comm);
        edges.push_back({{"from", e.from}, {"to", e.to}, {"mechanism", std::string(mechanism_key(e.mechanism))}, {"object", e.via},
                         {"bytes", e.bytes}, {"calls", e.calls}, {"directed", e.directed}});
    }
    for (const auto& o : map.objects) {
        nlohmann::ordered_json users = nlohmann::ordered_json::array();
        for (const auto& u : o.users)
            users.push_back({{"pid", u.pid}, {"comm", u.comm}, {"calls", u.use.calls}, {"bytes_to_kernel", u.use.bytes_in},
                             {"bytes_from_kernel", u.use.bytes_out}});
        objects.push_back({{"object", o.label}, {"mechanism", std::string(mechanism_key(o.mechanism))}, {"users", users}});
    }
    return {{"nodes", nodes}, {"edges", edges}, {"objects", objects}};
}

// A comm is any 15 bytes a program chose: keep it inside its DOT string.
static std::string dot_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string comm_map_dot(const CommMap& map) {
    std::string out = "digraph ipctrace {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
    std::set<pid_t> seen;
    for (const auto& e : map.edges)
        for (const auto& [pid, comm] : {std::pair{e.from, e.from_comm}, std::pair{e.to, e.to_comm}})
            if (seen.insert(pid).second) out += fmt("  p%d [label=\"%s\\n%d\"];\n", pid, dot_escape(comm).c_str(), pid);
    for (const auto& e : map.edges)
        out += fmt("  p%d -> p%d [label=\"%s\\n%s\"%s];\n", e.from, e.to, e.via.c_str(),
                   e.bytes ? format_bytes(static_cast<double>(e.bytes)).c_str()
                           : fmt("%llu calls", static_cast<unsigned long long>(e.calls)).c_str(),
                   e.directed ? "" : ", dir=both, style=dashed");
    return out + "}\n";
}

}  // namespace ipctrace
