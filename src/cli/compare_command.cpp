// `ipctrace compare`: the same payload through several IPC mechanisms, each run untraced (speed)
// and traced (costs), side by side per message, with a verdict written from the measured numbers. This file reads the
// options; collect/compare_runs measures, render/compare_text prints.
#include <algorithm>
#include <optional>

#include "cli/command.h"
#include "cli/preflight.h"
#include "cli/workload_options.h"
#include "collect/compare_runs.h"
#include "collect/stop_signals.h"
#include "common/number_parse.h"
#include "model/comparison.h"
#include "render/compare_svg.h"
#include "render/compare_text.h"
#include "render/html_page.h"
#include "render/output.h"

namespace ipctrace {
namespace {

// The classic SysV pairing (shm:sem) beside each shared-memory workload's own default wait,
// then the kernel-copying mechanisms.
const std::vector<std::string> kDefaultSet = {"shm:sem", "shm", "posix-shm", "pipe", "unix", "tcp", "msgq"};

// WORKLOAD[:SYNC], the sync checked by the workloads' own parser and list of accepted waits.
Expected<CompareEntry> parse_entry(const std::string& text) {
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    CompareEntry e;
    e.workload = workloads::find(name);
    e.label = text;
    if (!e.workload) return unexpected("unknown workload " + quote(name) + " ('ipctrace list' shows them)");
    if (!e.workload->payload)
        return unexpected("compare needs workloads that move a payload; '" + name + "' does not (try 'ipctrace run " + name + "')");
    if (colon == std::string::npos) return e;
    const std::string sync = text.substr(colon + 1);
    if (e.workload->syncs.empty()) return unexpected(quote(text) + ": " + name + " has no choice of wait (':SYNC' is for shared-memory workloads)");
    if (auto st = parse_sync(sync, e.sync); !st) return unexpected(quote(text) + ": " + st.error());
    if (std::find(e.workload->syncs.begin(), e.workload->syncs.end(), e.sync) == e.workload->syncs.end())
        return unexpected(quote(text) + ": " + name + " cannot wait with " + quote(sync));
    return e;
}

class CompareCommand : public Command {
public:
    CLI::App* add_to(CLI::App& app) override {
        CLI::App* cmd = app.add_subcommand(
            "compare", "Run several workloads with the same payload, untraced for speed and traced for costs, and explain the difference");
        cmd->add_option("workloads", names_,
                        "Workloads to compare, each WORKLOAD[:SYNC] such as shm:sem (default: shm:sem shm posix-shm pipe unix tcp msgq)");
        cmd->add_option("-s,--size", size_, "Bytes per message (default 4K)");
        cmd->add_option("--sizes", sizes_, "A sweep: comma-separated sizes, e.g. 64,1K,64K,1M")->delimiter(',');
        cmd->add_option("--bytes", bytes_, "Payload per run, the same for every workload (default 64M)");
        cmd->add_option("-c,--count", count_, "Messages per run instead of --bytes");
        cmd->add_option("--mode", mode_, "stream (default) or pingpong (latency)");
        cmd->add_option("--sync", sync_, "How shared-memory workloads without ':SYNC' wait: sem, futex or spin");
        cmd->add_option("--repeat", repeat_, "Counted runs per workload and size; the median is shown (default 3)");
        cmd->add_flag("--json", json_, "Print the comparison as one JSON document");
        cmd->add_option("-o,--output", output_, "Write the text or JSON to FILE instead of stdout");
        cmd->add_option("--svg", svg_, "Also write a chart to FILE (SVG)");
        cmd->add_option("--html", html_, "Also write a self-contained HTML page to FILE: the tables, the chart and the verdict (docs/html.md)")
            ->type_name("FILE");
        return cmd;
    }

    int execute(const GlobalOptions& global) override {
        install_stop_handlers();  // from here on a stop signal ends the comparison cleanly, 128+signal
        CompareSettings plan;
        if (auto st = make_plan(plan); !st) return report_error(ExitCode::BadInput, st.error());
        std::optional<Output> out, svg, html;
        try {
            out.emplace(output_);
            if (!svg_.empty()) svg.emplace(svg_);
            if (!html_.empty()) html.emplace(html_);
        } catch (const std::exception& e) {
            return report_error(ExitCode::BadInput, e.what());
        }
        std::vector<std::string> notes;
        if (ExitCode c = preflight(true, notes); c != ExitCode::Ok) return code(c);

        Comparison comparison;
        comparison.settings = std::move(plan);
        comparison.notes = std::move(notes);
        try {
            run_comparison(comparison, global.verbose);
        } catch (const std::exception& e) {
            return report_error(ExitCode::Failure, e.what());
        }
        const auto& ranked_by_size = comparison.ranked_by_size;
        if (stop_requested() && ranked_by_size.empty())
            return report_error(signal_exit_code(stop_signal()), "interrupted before any run finished: nothing was compared");

        try {
            out->write(json_ ? comparison_json(comparison).dump(2) + "\n" : comparison_text(comparison));
            if (svg) svg->write(compare_svg(ranked_by_size, comparison_title(comparison.settings)));
            if (html) html->write(compare_html(comparison));
        } catch (const std::exception& e) {
            return report_error(ExitCode::Failure, e.what());
        }
        if (stop_requested()) return report_error(signal_exit_code(stop_signal()), "interrupted: the comparison covers the runs finished before the signal");
        for (const auto& rows : ranked_by_size)
            for (const auto& row : rows)
                if (!row.median.ok) return report_error(ExitCode::Failure, "workload " + row.median.workload + " failed in at least one run");
        return code(ExitCode::Ok);
    }

private:
    std::vector<std::string> names_, sizes_;
    std::string size_, bytes_, count_, mode_, sync_, output_, svg_, html_;
    int repeat_ = 3;
    bool json_ = false;

    Status make_plan(CompareSettings& plan) const {
        for (const auto& text : names_.empty() ? kDefaultSet : names_) {
            auto entry = parse_entry(text);
            if (!entry) return unexpected(entry.error());
            plan.entries.push_back(*entry);
        }
        const bool out_is_stdout = output_.empty() || output_ == "-";
        if (!svg_.empty() && (svg_ == output_ || (svg_ == "-" && out_is_stdout)))
            return unexpected("give -o and --svg different files (both would write to " +
                              (out_is_stdout ? std::string("stdout") : output_) + ")");
        if (!html_.empty() && (html_ == output_ || html_ == svg_ || (html_ == "-" && out_is_stdout)))
            return unexpected("give --html a file of its own (" + quote(html_) + " is already written by -o or --svg)");
        if (!size_.empty() && !sizes_.empty()) return unexpected("give --size or --sizes, not both");
        if (!bytes_.empty() && !count_.empty()) return unexpected("give --bytes or --count, not both");
        if (repeat_ < 1 || repeat_ > 100) return unexpected("--repeat must be between 1 and 100");
        std::vector<std::string> size_texts = sizes_;
        if (size_texts.empty()) size_texts.push_back(size_.empty() ? "4K" : size_);
        for (const auto& text : size_texts) {
            auto size = parse_size(text);
            if (!size) return unexpected(size.error());
            if (*size == 0) return unexpected("--size must be at least 1 byte");
            plan.sizes.push_back(*size);
        }
        std::sort(plan.sizes.begin(), plan.sizes.end());
        plan.sizes.erase(std::unique(plan.sizes.begin(), plan.sizes.end()), plan.sizes.end());
        if (!bytes_.empty()) {
            auto bytes = parse_size(bytes_);
            if (!bytes) return unexpected("--bytes: " + bytes.error());
            if (*bytes == 0) return unexpected("--bytes must be at least 1");
            plan.bytes = *bytes;
        }
        if (!count_.empty()) {
            auto count = parse_count(count_);
            if (!count) return unexpected(count.error());
            if (*count == 0) return unexpected("--count must be at least 1");
            plan.count = *count;
        }
        if (!mode_.empty())
            if (auto st = parse_mode(mode_, plan.base.mode); !st) return st;
        if (!sync_.empty())
            if (auto st = parse_sync(sync_, plan.base.sync); !st) return st;
        plan.repeat = repeat_;
        // Every workload must accept every size before anything runs.
        for (uint64_t size : plan.sizes)
            for (const auto& e : plan.entries) {
                workloads::Params p = compare_params(plan, e, size);
                if (auto st = workloads::resolve(*e.workload, p); !st) return unexpected(e.label + ": " + st.error());
            }
        return {};
    }
};

}  // namespace

std::unique_ptr<Command> make_compare_command() { return std::make_unique<CompareCommand>(); }

}  // namespace ipctrace
