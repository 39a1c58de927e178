#include "render/html_parts.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "common/format.h"
#include "common/machine_info.h"
#include "render/palette.h"

namespace ipctrace::html {
namespace {

const char* kStyle = R"(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; font-size: 13px; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
th { background: #f6f6f6; font-weight: 600; }
td.name, th.name { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.note { color: #555; font-size: 13px; }
p.verdict { font-size: 14px; line-height: 1.5; max-width: 900px; }
svg text { font-family: "DejaVu Sans", Arial, sans-serif; }
)";

std::string pointer_token(const std::string& key) {  // RFC 6901: ~ and / escaped
    std::string out;
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
}

std::string swatch(const std::string& mechanism) {
    return "<span class=\"swatch\" style=\"background:" + mechanism_colour(mechanism) + "\"></span>";
}

std::string utc_now() {
    char buf[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm {};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace

std::string escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string number(const json& doc, const std::string& pointer, Shown how) {
    const json::json_pointer ptr(pointer);
    if (!doc.contains(ptr) || !doc.at(ptr).is_number()) return "–";
    const double v = doc.at(ptr).get<double>();
    std::string text;
    switch (how) {
        case Shown::Count: text = fmt("%llu", static_cast<unsigned long long>(doc.at(ptr).get<uint64_t>())); break;
        case Shown::Bytes: text = format_bytes(v); break;
        case Shown::Nanoseconds: text = format_ns(v); break;
        case Shown::Rate: text = fmt("%.0f", v); break;
        case Shown::Decimal: text = fmt("%.2f", v); break;
        case Shown::Percent: text = fmt("%.1f %%", v * 100); break;
    }
    return "<span data-json=\"" + escape(pointer) + "\">" + escape(text) + "</span>";
}

std::string page(const std::string& title, const Facts& facts, const std::string& body, const json& doc) {
    const MachineInfo m = machine_info();
    Facts all = facts;
    all.emplace_back("generated", escape(utc_now()));
    all.emplace_back("machine", escape(m.hostname + ": " + (m.cpu_model.empty() ? "unknown CPU" : m.cpu_model) +
                                       fmt(", %u CPUs, %s memory", m.cpus, format_bytes(static_cast<double>(m.memory_bytes)).c_str())));
    if (doc.contains("tool")) {
        const json& t = doc["tool"];
        all.emplace_back("kernel", escape(t.value("kernel", "")));
        all.emplace_back("ipctrace", escape(t.value("version", "") + " (commit " + t.value("commit", "") + ", libbpf " +
                                            t.value("libbpf", "") + ")"));
    }
    // Polyglot: HTML5 that is also well-formed XML (xmllint checks it as both).
    std::string out = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                      // Nothing is fetched: no script, no style sheet, no font, no image from anywhere.
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"/>\n"
                      "<title>" + escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
    out += "<header>\n<h1>" + escape(title) + "</h1>\n<dl class=\"facts\">\n";
    for (const auto& [label, value] : all) out += "<dt>" + escape(label) + "</dt><dd>" + value + "</dd>\n";
    out += "</dl>\n</header>\n" + body;
    // The data block is not run. <, > and & occur only inside its strings, written as JSON
    // escapes there: no string can end the element, and the page stays well-formed XML.
    std::string data;
    for (char c : doc.dump(1, ' ', false, json::error_handler_t::replace)) {
        if (c == '<') data += "\\u003c";
        else if (c == '>') data += "\\u003e";
        else if (c == '&') data += "\\u0026";
        else data += c;
    }
    out += "<h2>The data</h2>\n<p class=\"note\">This page's JSON document (the same as <code>--json</code>), embedded as "
           "<code>&lt;script type=\"application/json\" id=\"ipctrace-report\"&gt;</code>.</p>\n"
           "<script type=\"application/json\" id=\"ipctrace-report\">\n" + data + "\n</script>\n</body>\n</html>\n";
    return out;
}

std::string mechanism_table(const json& doc) {
    if (!doc.contains("mechanisms") || doc["mechanisms"].empty()) return "<p class=\"note\">No IPC was traced.</p>\n";
    std::vector<std::string> keys;
    for (const auto& [key, m] : doc["mechanisms"].items()) keys.push_back(key);
    std::stable_sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
        return doc["mechanisms"][a].value("syscall_count", 0ull) > doc["mechanisms"][b].value("syscall_count", 0ull);
    });
    std::string out = "<table class=\"mechanisms\">\n<tr><th class=\"name\">mechanism</th><th>syscalls</th><th>errors</th>"
                      "<th>to kernel</th><th>from kernel</th><th>zero-copy</th><th>page faults</th><th>switches vol.</th>"
                      "<th>switches invol.</th><th>time in calls</th></tr>\n";
    for (const auto& key : keys) {
        const std::string p = "/mechanisms/" + pointer_token(key);
        out += "<tr data-mechanism=\"" + escape(key) + "\"><td class=\"name\">" + swatch(key) + escape(key) + "</td>";
        out += "<td>" + number(doc, p + "/syscall_count", Shown::Count) + "</td>";
        out += "<td>" + number(doc, p + "/errors", Shown::Count) + "</td>";
        out += "<td>" + number(doc, p + "/bytes_to_kernel", Shown::Bytes) + "</td>";
        out += "<td>" + number(doc, p + "/bytes_from_kernel", Shown::Bytes) + "</td>";
        out += "<td>" + number(doc, p + "/bytes_zero_copy", Shown::Bytes) + "</td>";
        out += "<td>" + number(doc, p + "/page_faults", Shown::Count) + "</td>";
        out += "<td>" + number(doc, p + "/context_switches/voluntary", Shown::Count) + "</td>";
        out += "<td>" + number(doc, p + "/context_switches/involuntary", Shown::Count) + "</td>";
        out += "<td>" + number(doc, p + "/time_in_syscalls_ns", Shown::Nanoseconds) + "</td></tr>\n";
    }
    return out + "</table>\n";
}

namespace {

struct Bucket {
    double low_ns, high_ns;
    uint64_t calls;
};

// A mechanism's call latencies: its syscalls' histograms summed, from the first to the last
// non-empty slot.
std::vector<Bucket> mechanism_latencies(const json& mechanism) {
    std::vector<uint64_t> sum;
    if (!mechanism.contains("syscalls")) return {};
    for (const auto& [name, call] : mechanism["syscalls"].items()) {
        const json slots = call.value("latency_log2_ns", json::array());
        if (slots.size() > sum.size()) sum.resize(slots.size());
        for (size_t k = 0; k < slots.size(); ++k) sum[k] += slots[k].get<uint64_t>();
    }
    std::vector<Bucket> out;
    size_t first = 0;
    while (first < sum.size() && sum[first] == 0) ++first;
    for (size_t k = first; k < sum.size(); ++k)  // slot k: [2^k, 2^(k+1)) ns (docs/json.md)
        out.push_back({k == 0 ? 0.0 : std::ldexp(1.0, static_cast<int>(k)), std::ldexp(1.0, static_cast<int>(k) + 1), sum[k]});
    return out;
}

std::string histogram_svg(const std::string& key, const std::vector<Bucket>& buckets) {
    const int width = 370, height = 190, left = 52, right = 10, top = 24, bottom = 46;
    const int plot_w = width - left - right, plot_h = height - top - bottom;
    uint64_t max = 1;
    for (const auto& b : buckets) max = std::max(max, b.calls);
    const double bar = static_cast<double>(plot_w) / static_cast<double>(std::max<size_t>(buckets.size(), 1));
    std::string svg = fmt("<svg class=\"histogram\" data-mechanism=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                          "viewBox=\"0 0 %d %d\" font-size=\"10\" role=\"img\">\n",
                          escape(key).c_str(), width, height, width, height);
    svg += "<title>" + escape(key) + ": calls by latency</title>\n";
    svg += fmt("<text x=\"%d\" y=\"14\" font-size=\"12\" font-weight=\"bold\">%s</text>\n", left, escape(key).c_str());
    const std::string colour = mechanism_colour(key);
    for (size_t i = 0; i < buckets.size(); ++i) {
        const Bucket& b = buckets[i];
        const double h = static_cast<double>(plot_h) * static_cast<double>(b.calls) / static_cast<double>(max);
        const double x = left + bar * static_cast<double>(i);
        svg += fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s to %s: %llu calls</title></rect>\n",
                   x + 1, top + plot_h - h, std::max(bar - 2, 1.0), h, colour.c_str(), escape(format_ns(b.low_ns)).c_str(),
                   escape(format_ns(b.high_ns)).c_str(), static_cast<unsigned long long>(b.calls));
        const size_t every = buckets.size() > 10 ? 2 : 1;  // room for the labels
        if (i % every == 0)
            svg += fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %d)\">%s</text>\n", x + bar / 2,
                       top + plot_h + 12, x + bar / 2, top + plot_h + 12, escape(format_ns(b.low_ns)).c_str());
    }
    // Axes, with what they measure and in which unit.
    svg += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", left, top + plot_h, left + plot_w, top + plot_h);
    svg += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", left, top, left, top + plot_h);
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llu</text>\n", left - 4, top + 8, static_cast<unsigned long long>(max));
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left - 4, top + plot_h);
    svg += fmt("<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">calls</text>\n", top + plot_h / 2,
               top + plot_h / 2);
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time in call (log scale, bucket start)</text>\n", left + plot_w / 2,
               height - 2);
    return svg + "</svg>\n";
}

}  // namespace

std::string latency_histograms(const json& doc) {
    std::string charts;
    if (doc.contains("mechanisms"))
        for (const auto& [key, m] : doc["mechanisms"].items()) {
            const auto buckets = mechanism_latencies(m);
            if (!buckets.empty()) charts += histogram_svg(key, buckets);
        }
    if (charts.empty()) return "<p class=\"note\">No call latencies were recorded.</p>\n";
    return "<div class=\"charts\">\n" + charts + "</div>\n";
}

std::string app_io_tables(const json& doc) {
    if (!doc.contains("mechanisms")) return "";
    std::string out;
    const json& mechs = doc["mechanisms"];
    auto mech_cell = [](const std::string& key) { return "<td class=\"name\">" + swatch(key) + escape(key) + "</td>"; };

    // Waits: the time blocked for each mechanism, then what no IPC accounts for.
    if (doc.contains("waits") && doc["waits"].value("syscall_count", 0ull) > 0) {
        out += "<h2>Waits</h2>\n<p class=\"note\">" + number(doc, "/waits/syscall_count", Shown::Count) +
               " epoll_wait, poll and select calls, " + number(doc, "/waits/time_in_syscalls_ns", Shown::Nanoseconds) +
               " blocked; each wait's time is shared equally by the descriptors it returned ready.</p>\n"
               "<table class=\"waits\">\n<tr><th class=\"name\">mechanism</th><th>time in calls</th><th>time waiting for it</th>"
               "<th>ready descriptors</th></tr>\n";
        for (const auto& [key, m] : mechs.items()) {
            if (m.value("ready_fds", 0ull) == 0) continue;
            const std::string p = "/mechanisms/" + pointer_token(key);
            out += "<tr data-mechanism=\"" + escape(key) + "\">" + mech_cell(key) + "<td>" + number(doc, p + "/time_in_syscalls_ns", Shown::Nanoseconds) +
                   "</td><td>" + number(doc, p + "/wait_ns", Shown::Nanoseconds) + "</td><td>" + number(doc, p + "/ready_fds", Shown::Count) +
                   "</td></tr>\n";
        }
        if (doc["waits"].value("other_ns", 0ull) > 0)
            out += "<tr><td class=\"name\">(not IPC)</td><td>–</td><td>" + number(doc, "/waits/other_ns", Shown::Nanoseconds) + "</td><td>" +
                   number(doc, "/waits/other_ready_fds", Shown::Count) + "</td></tr>\n";
        out += "<tr><td class=\"name\">(idle)</td><td>–</td><td>" + number(doc, "/waits/idle_wait_ns", Shown::Nanoseconds) + "</td><td>" +
               number(doc, "/waits/idle_timeouts", Shown::Count) + " timed out</td></tr>\n</table>\n";
    }

    // io_uring: each operation under the mechanism of its file.
    std::string rows;
    for (const auto& [key, m] : mechs.items()) {
        if (!m.contains("io_uring")) continue;
        for (const auto& [op, s] : m["io_uring"].items()) {
            const std::string p = "/mechanisms/" + pointer_token(key) + "/io_uring/" + pointer_token(op);
            rows += "<tr data-mechanism=\"" + escape(key) + "\" data-opcode=\"" + escape(op) + "\"><td class=\"name\">" + escape(op) + "</td>" +
                    mech_cell(key) + "<td>" + number(doc, p + "/submitted", Shown::Count) + "</td><td>" + number(doc, p + "/completed", Shown::Count) +
                    "</td><td>" + number(doc, p + "/errors", Shown::Count) + "</td><td>" + number(doc, p + "/bytes_to_kernel", Shown::Bytes) +
                    "</td><td>" + number(doc, p + "/bytes_from_kernel", Shown::Bytes) + "</td></tr>\n";
        }
    }
    if (!rows.empty())
        out += "<h2>io_uring operations</h2>\n<p class=\"note\">Operations submitted through a ring, under the mechanism of the file "
               "they worked on; bytes from their completions.</p>\n<table class=\"io-uring\">\n<tr><th class=\"name\">operation</th>"
               "<th class=\"name\">mechanism</th><th>submitted</th><th>completed</th><th>errors</th><th>to kernel</th><th>from kernel</th></tr>\n" +
               rows + "</table>\n";

    // Descriptors passed with SCM_RIGHTS, by the kind of file.
    rows.clear();
    for (const auto& [key, m] : mechs.items()) {
        if (!m.contains("fds_passed")) continue;
        const json& f = m["fds_passed"];
        if (f.value("sent", 0ull) + f.value("received", 0ull) == 0) continue;
        const std::string p = "/mechanisms/" + pointer_token(key) + "/fds_passed";
        auto kinds = [&](const char* side) {
            std::string k;
            for (const auto& [kind, n] : f[side].items())
                if (n.get<uint64_t>() > 0) k += (k.empty() ? "" : ", ") + escape(kind) + " " + number(doc, p + "/" + side + "/" + pointer_token(kind), Shown::Count);
            return k.empty() ? std::string("–") : k;
        };
        rows += "<tr data-mechanism=\"" + escape(key) + "\">" + mech_cell(key) + "<td>" + number(doc, p + "/sent", Shown::Count) + "</td><td class=\"name\">" +
                kinds("sent_kinds") + "</td><td>" + number(doc, p + "/received", Shown::Count) + "</td><td class=\"name\">" + kinds("received_kinds") +
                "</td></tr>\n";
    }
    if (!rows.empty())
        out += "<h2>Descriptors passed (SCM_RIGHTS)</h2>\n<table class=\"fds-passed\">\n<tr><th class=\"name\">mechanism</th><th>sent</th>"
               "<th class=\"name\">kinds</th><th>received</th><th class=\"name\">kinds</th></tr>\n" + rows + "</table>\n";
    return out;
}

}  // namespace ipctrace::html
