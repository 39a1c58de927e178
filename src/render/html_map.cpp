#include "render/html_map.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/format.h"
#include "common/mechanisms.h"
#include "render/html_parts.h"
#include "render/palette.h"

namespace ipctrace::html {
namespace {

struct Node {
    std::vector<pid_t> pids;
    std::string comm;
    int layer = 0, row = 0;
};

std::string pid_list(const std::vector<pid_t>& pids) {
    std::string out;
    for (pid_t p : pids) out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
}

std::string node_label(const Node& n) {
    if (n.pids.size() == 1) return fmt("%s [%d]", n.comm.c_str(), n.pids.front());
    return fmt("%s ×%zu", n.comm.c_str(), n.pids.size());
}

// Folded links, unless a process folded into a group also appears on its own elsewhere: then
// every link keeps one process per side, so that each process is exactly one box.
std::vector<Link> links_for(const CommMap& map) {
    std::vector<Link> folded = fold_comm_map(map, true);
    std::set<pid_t> alone, grouped;
    for (const auto& l : folded) {
        alone.insert(l.right);
        if (l.left.size() == 1) alone.insert(l.left.front());
        else grouped.insert(l.left.begin(), l.left.end());
    }
    for (pid_t p : grouped)
        if (alone.count(p)) return fold_comm_map(map, false);
    return folded;
}

constexpr int kColumn = 320, kBoxW = 180, kBoxH = 34, kRow = 58, kLeft = 20, kTop = 30;

}  // namespace

std::string comm_map_svg(const CommMap& map, const std::vector<std::pair<pid_t, std::string>>& processes) {
    const std::vector<Link> links = links_for(map);
    // Nodes: one per process, or per group of same-named processes folded into one link side.
    std::vector<Node> nodes;
    std::map<std::string, size_t> by_key;
    auto node_of = [&](const std::vector<pid_t>& pids, const std::string& comm) {
        const std::string key = pid_list(pids);
        auto it = by_key.find(key);
        if (it != by_key.end()) return it->second;
        nodes.push_back({pids, comm});
        return by_key[key] = nodes.size() - 1;
    };
    struct Arrow {
        size_t from, to;
        const Link* link;
        bool both_ways;
    };
    std::vector<Arrow> arrows;
    for (const auto& l : links) {
        const size_t left = node_of(l.left, l.left_comm), right = node_of({l.right}, l.right_comm);
        const bool one_way = l.to_right != l.to_left && !l.shared;
        // Data flows left to right on the page: a link that only carried data right-to-left is drawn turned.
        if (one_way && l.to_left) arrows.push_back({right, left, &l, false});
        else arrows.push_back({left, right, &l, !one_way});
    }
    // Layers: the longest chain of one-way arrows leading to a node (bounded, so that a
    // cycle cannot loop); two-way links put their right side one layer on.
    const int bound = static_cast<int>(nodes.size());
    for (int pass = 0; pass < bound; ++pass) {
        bool moved = false;
        for (const auto& a : arrows) {
            if (a.from == a.to) continue;
            const int want = std::min(nodes[a.from].layer + 1, bound);
            if (nodes[a.to].layer < want && (!a.both_ways || nodes[a.to].layer == 0)) {
                nodes[a.to].layer = want;
                moved = true;
            }
        }
        if (!moved) break;
    }
    int layers = 0;
    std::map<int, int> rows_in_layer;
    for (auto& n : nodes) {
        n.row = rows_in_layer[n.layer]++;
        layers = std::max(layers, n.layer + 1);
    }
    int rows = 0;
    for (const auto& [layer, count] : rows_in_layer) rows = std::max(rows, count);

    // Traced processes on no link: a row of their own under the graph, when there are few.
    std::set<pid_t> linked;
    for (const auto& n : nodes) linked.insert(n.pids.begin(), n.pids.end());
    std::vector<std::pair<pid_t, std::string>> apart;
    for (const auto& p : processes)
        if (!linked.count(p.first)) apart.push_back(p);
    const bool draw_apart = !apart.empty() && apart.size() <= 24;
    const int per_line = std::max(layers, 4);
    const int apart_rows = draw_apart ? static_cast<int>((apart.size() + per_line - 1) / per_line) : 0;

    const int width = kLeft * 2 + std::max(layers, draw_apart ? per_line : 1) * kColumn;
    const int graph_h = kTop + std::max(rows, 1) * kRow;
    const int height = graph_h + (draw_apart ? 30 + apart_rows * kRow : apart.empty() ? 0 : 30) + 10;
    auto x_of = [](const Node& n) { return kLeft + n.layer * kColumn; };
    auto y_of = [](const Node& n) { return kTop + n.row * kRow; };

    uint64_t max_amount = 1;
    for (const auto& a : arrows) max_amount = std::max(max_amount, a.link->bytes_right + a.link->bytes_left + a.link->calls);
    std::string svg = fmt("<svg class=\"comm-map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                          "font-size=\"12\" role=\"img\">\n<title>Communication map: who talks to whom</title>\n",
                          width, height, width, height);
    svg += "<defs>\n";
    std::set<std::string> mechanisms;
    for (const auto& a : arrows) mechanisms.insert(std::string(mechanism_key(a.link->mechanism)));
    for (const auto& m : mechanisms)
        svg += fmt("<marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"12\" markerHeight=\"12\" "
                   "markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n",
                   m.c_str(), mechanism_colour(m).c_str());
    svg += "</defs>\n";

    for (const auto& a : arrows) {
        const Link& l = *a.link;
        const std::string mech(mechanism_key(l.mechanism));
        const Node &from = nodes[a.from], &to = nodes[a.to];
        const uint64_t bytes = l.bytes_right + l.bytes_left;
        const uint64_t amount = bytes ? bytes : l.calls;
        const double w = 1.5 + 6.0 * std::log1p(static_cast<double>(amount)) / std::log1p(static_cast<double>(max_amount));
        double x1 = x_of(from) + kBoxW, y1 = y_of(from) + kBoxH / 2.0, x2 = x_of(to), y2 = y_of(to) + kBoxH / 2.0;
        std::string d;
        if (to.layer > from.layer) {
            d = fmt("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1 + 40, y1, x2 - 40, y2, x2, y2);
        } else {  // same layer or back: around the right of the boxes
            x1 = x_of(from) + kBoxW;
            x2 = x_of(to) + kBoxW;
            const double bulge = std::max(x1, x2) + 50;
            d = fmt("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, bulge, y1, bulge, y2, x2, y2);
        }
        std::string what = format_bytes(static_cast<double>(bytes));
        if (!bytes) what = fmt("%llu calls", static_cast<unsigned long long>(l.calls));
        if (l.fds_passed)
            what += fmt(", passed fd: %llu descriptor%s", static_cast<unsigned long long>(l.fds_passed), l.fds_passed == 1 ? "" : "s");
        std::string objects;
        for (size_t i = 0; i < l.objects.size() && i < 3; ++i) objects += (i ? ", " : "") + l.objects[i].second;
        if (l.objects.size() > 3) objects += fmt(", … %zu objects", l.objects.size());
        const std::string tip = node_label(from) + (a.both_ways ? " <-> " : " -> ") + node_label(to) + " via " + objects + ": " + what;
        svg += fmt("<g class=\"edge\" data-from=\"%s\" data-to=\"%s\" data-mechanism=\"%s\" data-bytes=\"%llu\" data-calls=\"%llu\">"
                   "<title>%s</title>\n<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-opacity=\"0.8\" "
                   "marker-end=\"url(#arrow-%s)\"%s/>\n",
                   pid_list(from.pids).c_str(), pid_list(to.pids).c_str(), mech.c_str(), static_cast<unsigned long long>(bytes),
                   static_cast<unsigned long long>(l.calls), escape(tip).c_str(), d.c_str(), mechanism_colour(mech).c_str(), w,
                   mech.c_str(), a.both_ways ? fmt(" marker-start=\"url(#arrow-%s)\"", mech.c_str()).c_str() : "");
        const double lx = (x1 + x2) / 2, ly = (y1 + y2) / 2 - w / 2 - 5;  // above the arrow
        svg += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333\">%s %s</text></g>\n", lx, ly,
                   escape(mech).c_str(), escape(what).c_str());
    }
    auto box = [&](const std::vector<pid_t>& pids, const std::string& comm, const std::string& label, int x, int y, bool linked_node) {
        std::string tip = comm + " (pid " + pid_list(pids) + ")";
        return fmt("<g class=\"node\" data-pids=\"%s\" data-comm=\"%s\"%s><title>%s</title>"
                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"%s\" stroke=\"#555\"/>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>\n",
                   pid_list(pids).c_str(), escape(comm).c_str(), linked_node ? "" : " data-linked=\"no\"", escape(tip).c_str(), x, y, kBoxW,
                   kBoxH, linked_node ? "#ffffff" : "#f3f3f3", x + kBoxW / 2, y + kBoxH / 2 + 4, escape(label).c_str());
    };
    for (const auto& n : nodes) svg += box(n.pids, n.comm, node_label(n), x_of(n), y_of(n), true);
    if (draw_apart) {
        svg += fmt("<text x=\"%d\" y=\"%d\" fill=\"#555\">traced, but no IPC object shared with another traced process:</text>\n", kLeft,
                   graph_h + 18);
        for (size_t i = 0; i < apart.size(); ++i) {
            const int x = kLeft + static_cast<int>(i % per_line) * kColumn, y = graph_h + 30 + static_cast<int>(i / per_line) * kRow;
            svg += box({apart[i].first}, apart[i].second, fmt("%s [%d]", apart[i].second.c_str(), apart[i].first), x, y, false);
        }
    } else if (!apart.empty()) {
        svg += fmt("<text x=\"%d\" y=\"%d\" fill=\"#555\">and %zu traced processes that shared no IPC object with another</text>\n", kLeft,
                   graph_h + 18, apart.size());
    }
    return svg + "</svg>\n";
}

}  // namespace ipctrace::html
