#include "render/html_page.h"

#include <algorithm>

#include "common/format.h"
#include "render/compare_svg.h"
#include "render/compare_text.h"
#include "render/html_map.h"
#include "render/html_parts.h"
#include "render/palette.h"
#include "render/report_json.h"
#include "render/trace_json.h"

namespace ipctrace {
namespace {

using html::json;
using html::number;
using html::Shown;

std::vector<std::pair<pid_t, std::string>> traced_processes(const json& doc) {
    std::vector<std::pair<pid_t, std::string>> out;
    if (!doc.contains("processes")) return out;
    for (const auto& p : doc["processes"])
        if (p.value("pid", 0) > 0) out.emplace_back(p["pid"].get<pid_t>(), p.value("comm", ""));
    return out;
}

std::string map_section(const std::optional<CommMap>& map, const json& doc) {
    std::string out = "<h2>Who talks to whom</h2>\n";
    if (!map || map->edges.empty())
        return out + "<p class=\"note\">No IPC object was used by two traced processes.</p>\n";
    return out + "<p class=\"note\">Arrows point the way the data went; their width grows with the bytes (or, where no data "
                 "moved, the calls) on them. Hover for the objects.</p>\n" +
           html::comm_map_svg(*map, traced_processes(doc));
}

std::string common_sections(const json& doc, const std::optional<CommMap>& map) {
    std::string out = "<h2>Per mechanism</h2>\n" + html::mechanism_table(doc);
    out += html::app_io_tables(doc);
    out += map_section(map, doc);
    out += "<h2>Call latencies</h2>\n<p class=\"note\">Calls per latency bucket (powers of two) for each mechanism's syscalls.</p>\n" +
           html::latency_histograms(doc);
    if (doc.value("lost_events", 0ull) > 0)
        out += "<p class=\"note\">Lost events: " + number(doc, "/lost_events", Shown::Count) +
               " (the kernel's tables were full; the figures are lower bounds).</p>\n";
    return out;
}

std::string notes(const json& doc) {
    std::string out;
    if (!doc.contains("notes")) return out;
    for (const auto& n : doc["notes"]) out += "<li>" + html::escape(n.get<std::string>()) + "</li>\n";
    return out.empty() ? "" : "<h2>Notes</h2>\n<ul class=\"note\">\n" + out + "</ul>\n";
}

// The budget's parts, in the order a message's time is spent, with their own colours (parts
// of time, not mechanisms).
struct BudgetPart {
    const char* key;
    const char* label;
    const char* colour;
};
constexpr BudgetPart kBudgetParts[] = {
    {"copy_calls_ns", "in copying calls", "#4c78a8"},     {"sync_calls_ns", "in waiting/sync calls", "#9ecae9"},
    {"off_cpu_in_calls_ns", "off CPU in calls", "#b279a2"}, {"off_cpu_outside_calls_ns", "off CPU outside calls", "#d6a5c9"},
    {"user_ns", "user, outside calls", "#54a24b"},        {"tracer_ns", "the tracer", "#e45756"},
};

// compare's per-message budget of one size as stacked bars (one per workload, all on one scale),
// and its numbers in a table below.
std::string budget_section(const json& doc, size_t size_index) {
    const json& rows = doc["results"][size_index]["rows"];
    double max = 0;
    for (const auto& row : rows)
        if (row.contains("budget")) max = std::max(max, row["budget"].value("role_ns", 0.0));
    if (max <= 0) return "";
    const int left = 130, width = 900, bar = 22, gap = 10, top = 10;
    const int plot = width - left - 20;
    const int height = top + static_cast<int>(rows.size()) * (bar + gap) + 34;
    std::string svg = fmt("<svg class=\"budget\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                          "font-size=\"11\" role=\"img\"><title>Time per message, by where it went</title>\n",
                          width, height, width, height);
    std::string table = "<table class=\"budget\">\n<tr><th class=\"name\">workload</th><th>role time</th>";
    for (const auto& part : kBudgetParts)
        table += fmt("<th><span class=\"swatch\" style=\"background:%s\"></span>%s</th>", part.colour, part.label);
    table += "<th>unexplained</th></tr>\n";
    for (size_t r = 0; r < rows.size(); ++r) {
        const json& row = rows[r];
        if (!row.contains("budget")) continue;
        const std::string base = fmt("/results/%zu/rows/%zu/budget", size_index, r);
        const json& parts = row["budget"]["parts"];
        const int y = top + static_cast<int>(r) * (bar + gap);
        const std::string name = row.value("workload", "");
        svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 6, y + bar / 2 + 4, html::escape(name).c_str());
        double x = left;
        for (const auto& part : kBudgetParts) {
            const double ns = parts.value(part.key, 0.0);
            if (ns <= 0) continue;
            const double w = plot * ns / max;
            svg += fmt("<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s %s: %s per message</title></rect>\n", x,
                       y, w, bar, part.colour, html::escape(name).c_str(), part.label, html::escape(format_ns(ns)).c_str());
            x += w;
        }
        const double unexplained = row["budget"].value("unexplained_ns", 0.0);
        if (unexplained > 0)
            svg += fmt("<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"white\" stroke=\"#999\" stroke-dasharray=\"3 2\">"
                       "<title>%s unexplained: %s per message</title></rect>\n",
                       x, y, plot * unexplained / max, bar, html::escape(name).c_str(), html::escape(format_ns(unexplained)).c_str());
        table += "<tr><td class=\"name\">" + html::escape(name) + "</td><td>" + number(doc, base + "/role_ns", Shown::Nanoseconds) + "</td>";
        for (const auto& part : kBudgetParts) table += "<td>" + number(doc, base + "/parts/" + part.key, Shown::Nanoseconds) + "</td>";
        table += "<td>" + number(doc, base + "/unexplained_ns", Shown::Nanoseconds) + " (" + number(doc, base + "/error", Shown::Percent) +
                 ")</td></tr>\n";
    }
    svg += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", left, height - 28, left + plot, height - 28);
    svg += fmt("<text x=\"%d\" y=\"%d\">0</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left, height - 14, left + plot,
               height - 14, html::escape(format_ns(max)).c_str());
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">role time per message (the roles' wall time added up)</text>\n",
               left + plot / 2, height - 2);
    return "<h3>Where a message's time went (traced run)</h3>\n" + svg + "</svg>\n" + table + "</table>\n";
}

}  // namespace

std::string run_html(const Report& report, const std::optional<CommMap>& map) {
    const json doc = report_to_json(report);
    const json& w = doc["workload"];
    html::Facts facts;
    facts.emplace_back("workload", html::escape(w.value("name", "")) + ": " + number(doc, "/workload/messages", Shown::Count) +
                                       " messages of " + number(doc, "/workload/message_size", Shown::Bytes) + ", " +
                                       html::escape(w.value("mode", "")) + ", sync " + html::escape(w.value("sync", "")) +
                                       (doc.value("traced", true) ? "" : " (not traced)"));
    facts.emplace_back("result", number(doc, "/workload/elapsed_ns", Shown::Nanoseconds) + ", " +
                                     number(doc, "/workload/messages_per_s", Shown::Rate) + " msg/s, " +
                                     number(doc, "/workload/throughput_mib_s", Shown::Decimal) + " MiB/s" +
                                     (w.value("verified", false) ? ", every byte verified" : ""));
    if (w.contains("rtt"))
        facts.emplace_back("round trip", "p50 " + number(doc, "/workload/rtt/p50_ns", Shown::Nanoseconds) + ", p99 " +
                                             number(doc, "/workload/rtt/p99_ns", Shown::Nanoseconds));
    return html::page("ipctrace run " + w.value("name", ""), facts, common_sections(doc, map) + notes(doc), doc);
}

std::string trace_html(const TraceReport& trace) {
    const json doc = trace_to_json(trace);
    const json& t = doc["trace"];
    std::string what;
    const json& target = t["target"];
    const std::string kind = target.value("kind", "");
    if (kind == "command") {
        for (const auto& a : target["command"]) what += (what.empty() ? "" : " ") + a.get<std::string>();
        what = "command " + what + " and its descendants";
    } else if (kind == "pids") {
        for (const auto& p : target["pids"]) what += (what.empty() ? "pids " : ",") + std::to_string(p.get<long>());
    } else if (kind == "cgroup") {
        what = "cgroup " + target.value("path", "");
    } else {
        what = "all processes (but ipctrace)";
    }
    html::Facts facts;
    facts.emplace_back("traced", html::escape(what));
    facts.emplace_back("for", number(doc, "/trace/duration_ns", Shown::Nanoseconds) + ", " +
                                  number(doc, "/trace/processes_traced", Shown::Count) + " processes; stopped: " +
                                  html::escape(t.value("stop_reason", "")));
    return html::page("ipctrace trace: " + what, facts, common_sections(doc, trace.map) + notes(doc), doc);
}

std::string compare_html(const Comparison& comparison) {
    const json doc = comparison_json(comparison);
    std::string workloads;
    for (const auto& w : doc["settings"]["workloads"]) workloads += (workloads.empty() ? "" : ", ") + w.get<std::string>();
    html::Facts facts;
    facts.emplace_back("workloads", html::escape(workloads));
    const std::string mode = doc["settings"].value("mode", ""), sync = doc["settings"].value("sync", "");
    facts.emplace_back("runs", (mode == "none" ? std::string("each workload's own mode") : html::escape(mode)) +
                                   (sync == "none" ? "" : ", sync " + html::escape(sync)) + ", median of " +
                                   number(doc, "/settings/repeat", Shown::Count) + " runs per workload and size");
    std::string body;
    std::string chart = compare_svg(comparison.ranked_by_size, comparison_title(comparison.settings));
    if (chart.rfind("<?xml", 0) == 0) chart.erase(0, chart.find('\n') + 1);  // inline: no XML declaration
    body += "<h2>" + html::escape(comparison.ranked_by_size.size() > 1 ? "The sweep" : "Side by side") + "</h2>\n" + chart;

    // The columns a row may have, in the order a reader wants them.
    struct Column {
        const char* key;
        const char* header;
        Shown how;
    };
    static const Column columns[] = {
        {"/messages_per_s", "msg/s", Shown::Rate},
        {"/throughput_mib_s", "MiB/s", Shown::Decimal},
        {"/traced_messages_per_s", "msg/s traced", Shown::Rate},
        {"/cpu_s_per_million_messages", "CPU s per M msgs", Shown::Decimal},
        {"/rtt/p50_ns", "RTT p50", Shown::Nanoseconds},
        {"/rtt/p99_ns", "RTT p99", Shown::Nanoseconds},
        {"/syscalls_per_message", "syscalls/msg", Shown::Decimal},
        {"/copies_per_payload_byte", "copies/byte", Shown::Decimal},
        {"/page_faults_per_mib", "faults/MiB", Shown::Decimal},
        {"/context_switches_per_message", "switches/msg", Shown::Decimal},
        {"/syscall_time_share", "time in calls", Shown::Percent},
    };
    const json& results = doc["results"];
    for (size_t i = 0; i < results.size(); ++i) {
        const json& size = results[i];
        const std::string base = fmt("/results/%zu", i);
        body += "<h2>" + number(doc, base + "/message_size", Shown::Bytes) + " messages</h2>\n<table class=\"compare\">\n<tr><th class=\"name\">workload</th>";
        std::vector<const Column*> shown;
        for (const auto& c : columns) {
            bool any = false;
            for (const auto& row : size["rows"]) any = any || row.contains(json::json_pointer(c.key));
            if (any) {
                shown.push_back(&c);
                body += std::string("<th>") + c.header + "</th>";
            }
        }
        body += "</tr>\n";
        for (size_t r = 0; r < size["rows"].size(); ++r) {
            const json& row = size["rows"][r];
            const std::string name = row.value("workload", "");
            body += "<tr data-workload=\"" + html::escape(name) + "\"><td class=\"name\"><span class=\"swatch\" style=\"background:" +
                    workload_colour(name) + "\"></span>" + html::escape(name) + "</td>";
            for (const Column* c : shown) body += "<td>" + number(doc, base + fmt("/rows/%zu", r) + c->key, c->how) + "</td>";
            body += "</tr>\n";
        }
        body += "</table>\n" + budget_section(doc, i);
        if (size.contains("verdict"))
            for (const auto& sentence : size["verdict"]) body += "<p class=\"verdict\">" + html::escape(sentence.get<std::string>()) + "</p>\n";
    }
    if (doc.contains("verdict") && !doc["verdict"].empty()) {
        body += "<h2>Verdict</h2>\n";
        for (const auto& sentence : doc["verdict"]) body += "<p class=\"verdict\">" + html::escape(sentence.get<std::string>()) + "</p>\n";
    }
    return html::page("ipctrace compare", facts, body + notes(doc), doc);
}

}  // namespace ipctrace
