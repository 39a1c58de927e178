#include "collect/compare_runs.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "collect/measure.h"
#include "collect/stop_signals.h"
#include "common/format.h"
#include "model/compare_verdict.h"

namespace ipctrace {
namespace {

using Clock = std::chrono::steady_clock;

// What compare is doing. On a terminal, one line rewritten in place (done/total, elapsed,
// ETA); elsewhere (a log, a pipe, a test), one plain line per run as before.
class Progress {
public:
    explicit Progress(int total) : total_(total), tty_(isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}
    ~Progress() {
        if (tty_ && shown_) std::fputs("\r\033[K", stderr);  // the report follows on a clean line
    }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // plain: also a line of its own off a terminal (the counted runs, as compare always printed).
    void begin(const std::string& what, bool plain) {
        if (!tty_) {
            if (!plain) return;
            std::fprintf(stderr, "ipctrace compare: %s\n", what.c_str());
            return;
        }
        const double elapsed = seconds_since(start_);
        std::string eta = "-";
        if (done_ > 0) eta = clock_text(elapsed / done_ * (total_ - done_));
        std::fprintf(stderr, "\r\033[Kipctrace compare: [%d/%d] %s elapsed, ETA %s: %s", done_, total_, clock_text(elapsed).c_str(),
                     eta.c_str(), what.c_str());
        std::fflush(stderr);
        shown_ = true;
    }
    void end() { ++done_; }

private:
    static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
    static std::string clock_text(double s) {
        const auto total = static_cast<long>(s + 0.5);
        return fmt("%ld:%02ld", total / 60, total % 60);
    }
    int total_, done_ = 0;
    bool tty_, shown_ = false;
    Clock::time_point start_;
};

std::vector<ComparedRow> measure_size(Comparison& c, uint64_t size, bool verbose, Progress& progress) {
    const CompareSettings& plan = c.settings;
    const size_t n = plan.entries.size();
    std::vector<std::vector<RunFigures>> figures(n);
    const std::string size_s = format_bytes(static_cast<double>(size));
    for (size_t i = 0; i < n && !stop_requested(); ++i) {
        workloads::Params warm = compare_params(plan, plan.entries[i], size);
        warm.count = std::max<uint64_t>(1, warm.count / 10);
        (void)workloads::resolve(*plan.entries[i].workload, warm);  // checked before anything ran
        progress.begin(plan.entries[i].label + ", " + size_s + ", warm-up", false);
        try {
            measure(*plan.entries[i].workload, warm, false, verbose);
        } catch (const Interrupted&) {
            break;  // the loops below see stop_requested() too
        }
        progress.end();
    }
    // Each round runs every entry untraced (its speed) then traced (its costs), so that
    // drift hits every workload and both kinds of run alike.
    for (int round = 0; round < plan.repeat && !stop_requested(); ++round)
        for (size_t i = 0; i < n && !stop_requested(); ++i) {
            const CompareEntry& e = plan.entries[i];
            workloads::Params p = compare_params(plan, e, size);
            (void)workloads::resolve(*e.workload, p);
            Measurement runs[2];
            bool done = true;
            for (int traced = 0; traced < 2 && done; ++traced) {
                progress.begin(fmt("%s, %s x %" PRIu64 ", run %d/%d, %s", e.label.c_str(), size_s.c_str(), p.count, round + 1,
                                   plan.repeat, traced ? "traced" : "untraced"),
                               true);
                try {
                    runs[traced] = traced ? measure_with_budget(*e.workload, p, verbose) : measure(*e.workload, p, false, verbose);
                } catch (const Interrupted&) {
                    done = false;
                    break;
                }
                progress.end();
                done = !runs[traced].interrupted;
            }
            if (!done) break;
            RunFigures f = derive_figures(runs[1].report, runs[0].report);
            f.workload = e.label;
            figures[i].push_back(std::move(f));
            c.runs.push_back(std::move(runs[1].report));
        }
    std::vector<ComparedRow> rows;
    for (auto& f : figures)
        if (!f.empty()) rows.push_back(summarise(std::move(f)));
    return rows;
}

}  // namespace

void run_comparison(Comparison& comparison, bool verbose) {
    const auto& plan = comparison.settings;
    Progress progress(static_cast<int>(plan.sizes.size() * plan.entries.size() * (1 + 2 * static_cast<size_t>(plan.repeat))));
    for (uint64_t size : plan.sizes) {
        auto rows = measure_size(comparison, size, verbose, progress);
        if (rows.empty()) break;
        comparison.ranked_by_size.push_back(rank(std::move(rows)));
        if (stop_requested()) break;
    }
}

}  // namespace ipctrace
