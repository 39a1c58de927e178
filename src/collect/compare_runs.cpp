#include "collect/compare_runs.h"

#include <cinttypes>
#include <cstdio>

#include "collect/measure.h"
#include "collect/stop_signals.h"
#include "common/format.h"
#include "model/compare_verdict.h"

namespace ipctrace {
namespace {

std::vector<ComparedRow> measure_size(Comparison& c, uint64_t size, bool verbose) {
    const CompareSettings& plan = c.settings;
    std::vector<std::vector<RunFigures>> figures(plan.workloads.size());
    for (size_t i = 0; i < plan.workloads.size() && !stop_requested(); ++i) {
        workloads::Params warm = compare_params(plan, *plan.workloads[i], size);
        warm.count = std::max<uint64_t>(1, warm.count / 10);
        (void)workloads::resolve(*plan.workloads[i], warm);  // checked before anything ran
        try {
            measure(*plan.workloads[i], warm, false, verbose);
        } catch (const Interrupted&) {
            break;  // the loops below see stop_requested() too
        }
    }
    for (int round = 0; round < plan.repeat && !stop_requested(); ++round)
        for (size_t i = 0; i < plan.workloads.size() && !stop_requested(); ++i) {
            const workloads::Workload& w = *plan.workloads[i];
            workloads::Params p = compare_params(plan, w, size);
            (void)workloads::resolve(w, p);
            std::fprintf(stderr, "ipctrace compare: %s, %s x %" PRIu64 ", run %d/%d\n", std::string(w.name).c_str(),
                         format_bytes(static_cast<double>(size)).c_str(), p.count, round + 1, plan.repeat);
            Measurement m;
            try {
                m = measure(w, p, true, verbose);
            } catch (const Interrupted&) {
                break;
            }
            if (m.interrupted) break;
            figures[i].push_back(derive_figures(m.report));
            c.runs.push_back(std::move(m.report));
        }
    std::vector<ComparedRow> rows;
    for (auto& f : figures)
        if (!f.empty()) rows.push_back(summarise(std::move(f)));
    return rows;
}

}  // namespace

void run_comparison(Comparison& comparison, bool verbose) {
    for (uint64_t size : comparison.settings.sizes) {
        auto rows = measure_size(comparison, size, verbose);
        if (rows.empty()) break;
        comparison.ranked_by_size.push_back(rank(std::move(rows)));
        if (stop_requested()) break;
    }
}

}  // namespace ipctrace
