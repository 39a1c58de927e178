#include "render/comm_map_render.h"

#include <algorithm>
#include <set>

#include "common/format.h"
#include "common/mechanisms.h"

namespace ipctrace {
namespace {

// "unix_stream connections", "pipes", … for "via N …".
std::string plural(Mechanism m) {
    switch (m) {
        case MECH_UNIX_STREAM:
        case MECH_TCP:
            return std::string(mechanism_key(m)) + " connections";
        case MECH_UNIX_DGRAM:
        case MECH_UDP:
            return std::string(mechanism_key(m)) + " sockets";
        case MECH_PIPE:
            return "pipes";
        case MECH_FIFO:
            return "FIFOs";
        case MECH_SIGNAL:
            return "signal targets";
        case MECH_CROSS_MEMORY:
            return "address spaces";
        default:
            return std::string(mechanism_key(m)) + " objects";
    }
}

std::string via(const Link& l) { return l.objects.size() == 1 ? l.objects.front().second : fmt("%zu %s", l.objects.size(), plural(l.mechanism).c_str()); }

// The link read left to right: one way (arrow "->", turned so data flows to the right) or
// both ways ("<->"), and what went: bytes each way, or calls when no data moved.
struct Reading {
    Link link;
    bool both_ways;
    std::string arrow, amount;
};

Reading reading(const Link& l) {
    Reading r{l, false, "", ""};
    const bool one_way = (l.to_right != l.to_left) && !l.shared;
    if (one_way && l.to_left && l.left.size() == 1) r.link = reversed(l);
    r.both_ways = !one_way;
    const Link& k = r.link;
    // A group on the left that only receives keeps its place: its arrow points at it.
    r.arrow = r.both_ways ? "<->" : k.to_right ? "->" : "<-";
    if (k.faults_left + k.faults_right + k.sync_calls > 0) {
        // A shared mapping: what each side faulted in it, and the synchronisation beside it.
        r.amount = fmt("%llu / %llu faults", static_cast<unsigned long long>(k.faults_left), static_cast<unsigned long long>(k.faults_right));
        if (k.sync_calls) r.amount += fmt(", %llu futex calls", static_cast<unsigned long long>(k.sync_calls));
        if (k.calls) r.amount += fmt(", %llu calls", static_cast<unsigned long long>(k.calls));
    } else if (k.bytes_right + k.bytes_left == 0)
        r.amount = fmt("%llu calls", static_cast<unsigned long long>(k.calls));
    else if (!r.both_ways)
        r.amount = format_bytes(static_cast<double>(k.to_right ? k.bytes_right : k.bytes_left));
    else
        r.amount = format_bytes(static_cast<double>(k.bytes_right)) + " -> / " + format_bytes(static_cast<double>(k.bytes_left)) + " <-";
    if (k.fds_passed)
        r.amount += fmt(", passed fd: %llu descriptor%s", static_cast<unsigned long long>(k.fds_passed), k.fds_passed == 1 ? "" : "s");
    return r;
}

std::string left_name(const Link& l) {
    if (l.left.size() == 1) return fmt("%s[%d]", l.left_comm.c_str(), l.left.front());
    std::string pids;
    for (size_t i = 0; i < l.left.size() && i < 3; ++i) pids += fmt(i ? ",%d" : "%d", l.left[i]);
    if (l.left.size() > 3) pids += fmt(",… %zu processes", l.left.size());
    return fmt("%s[%s]", l.left_comm.c_str(), pids.c_str());
}

}  // namespace

std::string comm_map_text(const CommMap& map, size_t max_lines) {
    if (map.edges.empty()) return "\nCommunication map: no IPC object was used by two traced processes.\n";
    const auto links = fold_comm_map(map, true);
    std::string out = "\nCommunication map (who talks to whom):\n";
    for (size_t i = 0; i < links.size() && i < max_lines; ++i) {
        const Reading r = reading(links[i]);
        out += fmt("  %s %s %s[%d] via %s, %s\n", left_name(r.link).c_str(), r.arrow.c_str(), r.link.right_comm.c_str(),
                   r.link.right, via(r.link).c_str(), r.amount.c_str());
    }
    if (links.size() > max_lines)
        out += fmt("  … %zu more links (--json has every edge, --dot the whole map)\n", links.size() - max_lines);
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
                         {"bytes", e.bytes}, {"calls", e.calls}, {"directed", e.directed}, {"from_faults", e.from_faults},
                         {"to_faults", e.to_faults}, {"sync_calls", e.sync_calls}, {"passed_fd", e.passed_fd},
                         {"fds_passed", e.fds_passed}});
    }
    for (const auto& o : map.objects) {
        nlohmann::ordered_json users = nlohmann::ordered_json::array();
        for (const auto& u : o.users)
            users.push_back({{"pid", u.pid}, {"comm", u.comm}, {"calls", u.use.calls}, {"bytes_to_kernel", u.use.bytes_in},
                             {"bytes_from_kernel", u.use.bytes_out}, {"page_faults", u.use.page_faults}, {"sync_calls", u.use.sync_calls},
                             {"fds_sent", u.use.fds_sent}, {"fds_received", u.use.fds_received}});
        nlohmann::ordered_json obj = {{"object", o.label}, {"mechanism", std::string(mechanism_key(o.mechanism))}};
        if (is_mapping_mechanism(o.mechanism)) obj["inode"] = o.inode;
        obj["users"] = users;
        objects.push_back(std::move(obj));
    }
    return {{"nodes", nodes}, {"edges", edges}, {"objects", objects}};
}

// A comm or a FIFO's path is whatever a program chose: keep it inside its DOT string.
std::string dot_escape(const std::string& text) {
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
    // One arrow per pair of processes and mechanism: every process stays a node of its own.
    for (const auto& link : fold_comm_map(map, false)) {
        const Reading r = reading(link);
        out += fmt("  p%d -> p%d [label=\"%s\\n%s\"%s];\n", r.link.left.front(), r.link.right, dot_escape(via(r.link)).c_str(), r.amount.c_str(),
                   !r.both_ways                 ? ""
                   : r.link.to_right || r.link.to_left ? ", dir=both"
                                                       : ", dir=both, style=dashed");
    }
    return out + "}\n";
}

}  // namespace ipctrace
