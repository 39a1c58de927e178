#include "render/compare_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <set>

#include "common/format.h"
#include "render/html_parts.h"
#include "render/palette.h"

namespace ipctrace {
namespace {

using html::escape;  // SVG text and attributes are escaped as the pages' are


bool payload(const std::vector<std::vector<ComparedRow>>& sizes) {
    for (const auto& rows : sizes)
        for (const auto& r : rows)
            if (r.median.message_size) return true;
    return false;
}

std::string unit_label(bool bytes) { return bytes ? "throughput (MiB/s)" : "messages per second"; }

std::string header(int w, int h, const std::string& title) {
    return fmt("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%d\" y=\"26\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">%s</text>\n",
               w, h, w, h, w / 2, escape(title).c_str());
}

// One size: horizontal bars, fastest on top, each labelled with its speed and cost per message.
std::string bars(const std::vector<ComparedRow>& rows, const std::string& title) {
    const bool bytes = payload({rows});
    const int left = 110, right = 300, top = 50, bar = 28, gap = 12;
    const int width = 900, plot = width - left - right;
    const int height = top + static_cast<int>(rows.size()) * (bar + gap) + 50;
    double max = 0;
    for (const auto& r : rows) max = std::max(max, speed(r.median));
    std::string svg = header(width, height, title);
    for (size_t i = 0; i < rows.size(); ++i) {
        const RunFigures& f = rows[i].median;
        const int y = top + static_cast<int>(i) * (bar + gap);
        const int len = max > 0 ? static_cast<int>(plot * speed(f) / max) : 0;
        svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8, y + bar / 2 + 5, escape(f.workload).c_str());
        svg += fmt("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", left, y, std::max(len, 1), bar,
                   workload_colour(f.workload).c_str());
        const std::string value = bytes ? format_bytes(f.throughput_mib_s * 1048576.0) + "/s" : fmt("%.0f msg/s", f.messages_per_s);
        svg += fmt("<text x=\"%d\" y=\"%d\">%s · %.2f copies/B · %.1f syscalls/msg</text>\n", left + std::max(len, 1) + 6,
                   y + bar / 2 + 5, escape(value).c_str(), f.copies_per_byte, f.syscalls_per_message);
    }
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s, median of repeated runs</text>\n", left + plot / 2,
               height - 15, unit_label(bytes).c_str());
    return svg + "</svg>\n";
}

// A sweep: one line per workload, x = message size on a log2 axis, y = speed on a log10 axis.
std::string lines(const std::vector<std::vector<ComparedRow>>& sizes, const std::string& title) {
    const bool bytes = payload(sizes);
    const int width = 900, height = 520, left = 90, right = 150, top = 50, bottom = 60;
    const int pw = width - left - right, ph = height - top - bottom;
    std::map<std::string, std::vector<std::pair<double, double>>> series;  // workload -> (log2 size, speed)
    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = 0;
    for (const auto& rows : sizes)
        for (const auto& r : rows) {
            const double x = std::log2(static_cast<double>(std::max<uint64_t>(r.median.message_size, 1)));
            const double y = speed(r.median);
            if (y <= 0) continue;
            series[r.median.workload].push_back({x, y});
            xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
        }
    std::string svg = header(width, height, title);
    if (series.empty()) return svg + "</svg>\n";
    if (xmax == xmin) xmax = xmin + 1;
    const double lo = std::floor(std::log10(ymin)), hi = std::max(lo + 1, std::ceil(std::log10(ymax)));
    auto px = [&](double x) { return left + (x - xmin) / (xmax - xmin) * pw; };
    auto py = [&](double y) { return top + ph - (std::log10(y) - lo) / (hi - lo) * ph; };
    svg += fmt("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", left, top, pw, ph);
    for (double d = lo; d <= hi; d += 1) {
        const double y = py(std::pow(10, d));
        svg += fmt("<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, left + pw, y, y);
        svg += fmt("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", left - 6, y + 4, std::pow(10, d));
    }
    for (const auto& rows : sizes) {
        if (rows.empty()) continue;
        const uint64_t size = rows.front().median.message_size;
        const double x = px(std::log2(static_cast<double>(std::max<uint64_t>(size, 1))));
        svg += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n", x, x, top, top + ph);
        svg += fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, top + ph + 18, format_bytes(static_cast<double>(size)).c_str());
    }
    int i = 0;
    std::set<std::string> used;
    for (const auto& [name, points] : series) {
        // The workload's mechanism colour, as in every page; a second line of one colour is dashed.
        const std::string colour_text = workload_colour(name);
        const char* color = colour_text.c_str();
        const bool dashed = !used.insert(colour_text).second;
        std::string path;
        for (const auto& [x, y] : points) path += fmt("%s%.1f,%.1f", path.empty() ? "" : " ", px(x), py(y));
        svg += fmt("<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n", path.c_str(), color,
                   dashed ? " stroke-dasharray=\"7 4\"" : "");
        for (const auto& [x, y] : points) svg += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", px(x), py(y), color);
        const int ly = top + 10 + i * 22;
        svg += fmt("<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", left + pw + 16, ly, color);
        svg += fmt("<text x=\"%d\" y=\"%d\">%s</text>\n", left + pw + 36, ly + 12, escape(name).c_str());
        ++i;
    }
    svg += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">message size (log scale)</text>\n", left + pw / 2, height - 15);
    svg += fmt("<text x=\"20\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\" transform=\"rotate(-90 20 %d)\">%s (log scale)</text>\n",
               top + ph / 2, top + ph / 2, unit_label(bytes).c_str());
    return svg + "</svg>\n";
}

}  // namespace

std::string compare_svg(const std::vector<std::vector<ComparedRow>>& ranked_by_size, const std::string& title) {
    if (ranked_by_size.size() == 1) return bars(ranked_by_size.front(), title);
    return lines(ranked_by_size, title);
}

}  // namespace ipctrace
