// `ipctrace compare`: the same payload through several IPC mechanisms, each traced, side by
// side per message, with a verdict written from the measured numbers.
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "model/compare_figures.h"
#include "render/compare_svg.h"
#include "model/compare_verdict.h"
#include "collect/measure.h"
#include "render/output.h"
#include "render/report_json.h"
#include "render/report_text.h"
#include "common/size_parse.h"
#include "collect/stop_signals.h"
#include "cli/workload_options.h"

namespace ipctrace {
namespace {

using json = nlohmann::ordered_json;

constexpr uint64_t kDefaultBytes = 256ull << 20;
constexpr uint64_t kMaxCountPerRun = 200000;  // tiny messages: bound each run's time
const std::vector<std::string> kDefaultSet = {"shm", "posix-shm", "pipe", "unix", "tcp", "msgq"};

struct Plan {
    std::vector<const workloads::Workload*> workloads;
    std::vector<uint64_t> sizes;
    uint64_t bytes = kDefaultBytes;  // per run, unless count is set
    uint64_t count = 0;
    workloads::Params base;          // mode, sync
    int repeat = 3;
};

std::string fmt_row(const ComparedRow& row, bool pingpong) {
    const RunFigures& f = row.median;
    char buf[512];
    const std::string speed_s = format_bytes(f.throughput_mib_s * 1048576.0) + "/s";
    const std::string spread = row.runs > 1 ? format_bytes(row.throughput_min * 1048576.0) + "-" + format_bytes(row.throughput_max * 1048576.0)
                                            : std::string("-");
    std::snprintf(buf, sizeof buf, "%-9s %-10s %12s %10.0f %9.2f %9.2f %10.1f %9.2f %8.0f%% %6.2f/%-6.2f",
                  format_bytes(static_cast<double>(f.message_size)).c_str(), f.workload.c_str(), speed_s.c_str(), f.messages_per_s,
                  f.syscalls_per_message, f.copies_per_byte, f.page_faults_per_mib, f.context_switches_per_message,
                  f.syscall_time_share * 100, f.user_s, f.sys_s);
    std::string line = buf;
    if (pingpong) line += " " + format_ns(static_cast<double>(f.rtt_p50_ns)) + "/" + format_ns(static_cast<double>(f.rtt_p99_ns));
    if (row.runs > 1) line += "  " + spread + (row.wide_spread() ? " (wide)" : "");
    if (!f.ok) line += "  FAILED";
    return line + "\n";
}

json figures_json(const ComparedRow& row) {
    const RunFigures& f = row.median;
    json out = {{"workload", f.workload},
                {"message_size", f.message_size},
                {"messages", f.messages},
                {"throughput_mib_s", f.throughput_mib_s},
                {"messages_per_s", f.messages_per_s},
                {"syscalls_per_message", f.syscalls_per_message},
                {"copies_per_payload_byte", f.copies_per_byte},
                {"page_faults_per_mib", f.page_faults_per_mib},
                {"context_switches_per_message", f.context_switches_per_message},
                {"syscall_time_share", f.syscall_time_share},
                {"cpu", {{"user_s", f.user_s}, {"sys_s", f.sys_s}}},
                {"sync", f.sync},
                {"top_syscall", f.top_syscall},
                {"ok", f.ok},
                {"spread", {{"runs", row.runs}, {"min", row.throughput_min}, {"max", row.throughput_max}, {"wide", row.wide_spread()}}}};
    if (f.rtt_p50_ns) out["rtt"] = {{"p50_ns", f.rtt_p50_ns}, {"p99_ns", f.rtt_p99_ns}};
    return out;
}

class CompareCommand : public Command {
public:
    CLI::App* add_to(CLI::App& app) override {
        CLI::App* cmd = app.add_subcommand(
            "compare", "Run several workloads with the same payload, each traced, and explain the difference");
        cmd->add_option("workloads", names_, "Workloads to compare (default: shm posix-shm pipe unix tcp msgq)");
        cmd->add_option("-s,--size", size_, "Bytes per message (default 4K)");
        cmd->add_option("--sizes", sizes_, "A sweep: comma-separated sizes, e.g. 64,1K,64K,1M")->delimiter(',');
        cmd->add_option("--bytes", bytes_, "Payload per run, the same for every workload (default 256M)");
        cmd->add_option("-c,--count", count_, "Messages per run instead of --bytes");
        cmd->add_option("--mode", mode_, "stream (default) or pingpong (latency)");
        cmd->add_option("--sync", sync_, "How shared-memory workloads wait: sem, futex or spin");
        cmd->add_option("--repeat", repeat_, "Counted runs per workload and size; the median is shown (default 3)");
        cmd->add_flag("--json", json_, "Print the comparison as one JSON document");
        cmd->add_option("-o,--output", output_, "Write the text or JSON to FILE instead of stdout");
        cmd->add_option("--svg", svg_, "Also write a chart to FILE (SVG)");
        return cmd;
    }

    int execute(const GlobalOptions& global) override {
        install_stop_handlers();  // from here on a stop signal ends the comparison cleanly, 128+signal
        Plan plan;
        if (auto err = make_plan(plan)) return report_error(2, *err);
        std::optional<Output> out, svg;
        try {
            out.emplace(output_);
            if (!svg_.empty()) svg.emplace(svg_);
        } catch (const std::exception& e) {
            return report_error(2, e.what());
        }
        std::vector<std::string> notes;
        if (auto code = preflight(true, notes)) return *code;

        std::vector<std::vector<ComparedRow>> ranked_by_size;
        json runs = json::array();
        try {
            for (uint64_t size : plan.sizes) {
                auto rows = measure_size(plan, size, global.verbose, runs);
                if (rows.empty()) break;
                ranked_by_size.push_back(rank(std::move(rows)));
                if (stop_requested()) break;
            }
        } catch (const std::exception& e) {
            return report_error(1, e.what());
        }
        if (stop_requested() && ranked_by_size.empty())
            return report_error(128 + stop_signal(), "interrupted before any run finished: nothing was compared");

        const bool pingpong = plan.base.mode == workloads::Mode::PingPong;
        try {
            if (json_) {
                out->write(to_json(plan, ranked_by_size, runs, notes).dump(2) + "\n");
            } else {
                out->write(to_text(plan, ranked_by_size, pingpong));
            }
            if (svg) svg->write(compare_svg(ranked_by_size, title(plan)));
        } catch (const std::exception& e) {
            return report_error(1, e.what());
        }
        if (stop_requested()) return report_error(128 + stop_signal(), "interrupted: the comparison covers the runs finished before the signal");
        for (const auto& rows : ranked_by_size)
            for (const auto& row : rows)
                if (!row.median.ok) return report_error(1, "workload " + row.median.workload + " failed in at least one run");
        return 0;
    }

private:
    std::vector<std::string> names_, sizes_;
    std::string size_, bytes_, count_, mode_, sync_, output_, svg_;
    int repeat_ = 3;
    bool json_ = false;

    std::optional<std::string> make_plan(Plan& plan) const {
        for (const auto& name : names_.empty() ? kDefaultSet : names_) {
            const workloads::Workload* w = workloads::find(name);
            if (!w) return "unknown workload " + quote(name) + " ('ipctrace list' shows them)";
            if (!w->payload) return "compare needs workloads that move a payload; '" + name + "' does not (try 'ipctrace run " + name + "')";
            plan.workloads.push_back(w);
        }
        const bool out_is_stdout = output_.empty() || output_ == "-";
        if (!svg_.empty() && (svg_ == output_ || (svg_ == "-" && out_is_stdout)))
            return "give -o and --svg different files (both would write to " + (out_is_stdout ? std::string("stdout") : output_) + ")";
        if (!size_.empty() && !sizes_.empty()) return "give --size or --sizes, not both";
        if (!bytes_.empty() && !count_.empty()) return "give --bytes or --count, not both";
        if (repeat_ < 1 || repeat_ > 100) return "--repeat must be between 1 and 100";
        std::vector<std::string> size_texts = sizes_;
        if (size_texts.empty()) size_texts.push_back(size_.empty() ? "4K" : size_);
        for (const auto& text : size_texts) {
            Parsed p = parse_size(text);
            if (auto* err = std::get_if<std::string>(&p)) return *err;
            if (std::get<uint64_t>(p) == 0) return "--size must be at least 1 byte";
            plan.sizes.push_back(std::get<uint64_t>(p));
        }
        std::sort(plan.sizes.begin(), plan.sizes.end());
        plan.sizes.erase(std::unique(plan.sizes.begin(), plan.sizes.end()), plan.sizes.end());
        if (!bytes_.empty()) {
            Parsed p = parse_size(bytes_);
            if (auto* err = std::get_if<std::string>(&p)) return "--bytes: " + *err;
            if (std::get<uint64_t>(p) == 0) return "--bytes must be at least 1";
            plan.bytes = std::get<uint64_t>(p);
        }
        if (!count_.empty()) {
            Parsed p = parse_count(count_);
            if (auto* err = std::get_if<std::string>(&p)) return *err;
            if (std::get<uint64_t>(p) == 0) return "--count must be at least 1";
            plan.count = std::get<uint64_t>(p);
        }
        if (!mode_.empty())
            if (auto err = parse_mode(mode_, plan.base.mode)) return err;
        if (!sync_.empty())
            if (auto err = parse_sync(sync_, plan.base.sync)) return err;
        plan.repeat = repeat_;
        // Every workload must accept every size before anything runs.
        for (uint64_t size : plan.sizes)
            for (const auto* w : plan.workloads) {
                workloads::Params p = params_for(plan, *w, size);
                if (auto err = workloads::resolve(*w, p)) return *err;
            }
        return std::nullopt;
    }

    static workloads::Params params_for(const Plan& plan, const workloads::Workload& w, uint64_t size) {
        workloads::Params p = plan.base;
        p.size = size;
        p.count = plan.count ? plan.count : std::clamp<uint64_t>(plan.bytes / size, 1, kMaxCountPerRun);
        // --sync is for the shared-memory workloads; the others have no choice to make.
        if (w.syncs.empty()) p.sync = workloads::Sync::Default;
        if (w.modes.empty()) p.mode = workloads::Mode::Default;
        return p;
    }

    // One size: a short untraced warm-up of each workload, then `repeat` rounds A B C … A B C.
    std::vector<ComparedRow> measure_size(const Plan& plan, uint64_t size, bool verbose, json& runs) const {
        std::vector<std::vector<RunFigures>> figures(plan.workloads.size());
        for (size_t i = 0; i < plan.workloads.size() && !stop_requested(); ++i) {
            workloads::Params warm = params_for(plan, *plan.workloads[i], size);
            warm.count = std::max<uint64_t>(1, warm.count / 10);
            workloads::resolve(*plan.workloads[i], warm);
            try {
                measure(*plan.workloads[i], warm, false, verbose);
            } catch (const Interrupted&) {
                break;  // the loops below see stop_requested() too
            }
        }
        for (int round = 0; round < plan.repeat && !stop_requested(); ++round)
            for (size_t i = 0; i < plan.workloads.size() && !stop_requested(); ++i) {
                const workloads::Workload& w = *plan.workloads[i];
                workloads::Params p = params_for(plan, w, size);
                workloads::resolve(w, p);
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
                runs.push_back(report_to_json(m.report));
            }
        std::vector<ComparedRow> rows;
        for (auto& f : figures)
            if (!f.empty()) rows.push_back(summarise(std::move(f)));
        return rows;
    }

    std::string title(const Plan& plan) const {
        std::string t = "ipctrace compare: ";
        t += plan.sizes.size() > 1 ? "throughput vs message size" : "throughput at " + format_bytes(static_cast<double>(plan.sizes.front())) + " messages";
        return t + (plan.base.mode == workloads::Mode::PingPong ? " (ping-pong)" : " (stream)");
    }

    std::string settings_text(const Plan& plan) const {
        std::string s = "ipctrace compare: ";
        s += plan.count ? std::to_string(plan.count) + " messages per run"
                        : format_bytes(static_cast<double>(plan.bytes)) + " per run (at most " + std::to_string(kMaxCountPerRun) + " messages)";
        s += std::string(", ") + (plan.base.mode == workloads::Mode::PingPong ? "ping-pong" : "stream");
        if (plan.base.sync != workloads::Sync::Default) s += ", sync " + std::string(workloads::to_string(plan.base.sync));
        s += ", median of " + std::to_string(plan.repeat) + " traced run" + (plan.repeat > 1 ? "s" : "") + " after an untraced warm-up\n";
        return s;
    }

    std::string to_text(const Plan& plan, const std::vector<std::vector<ComparedRow>>& ranked_by_size, bool pingpong) const {
        std::string out = settings_text(plan);
        char head[512];
        std::snprintf(head, sizeof head, "\n%-9s %-10s %12s %10s %9s %9s %10s %9s %9s %13s", "SIZE", "WORKLOAD", "THROUGHPUT", "MSG/S",
                      "SYSC/MSG", "COPIES/B", "FAULTS/MiB", "CSW/MSG", "IN CALLS", "CPU usr/sys s");
        out += head;
        if (pingpong) out += " RTT p50/p99";
        if (plan.repeat > 1) out += "  SPREAD";
        out += "\n";
        for (const auto& rows : ranked_by_size)
            for (const auto& row : rows) out += fmt_row(row, pingpong);
        out += "\nVerdict:\n";
        for (const auto& rows : ranked_by_size)
            for (const auto& sentence : verdict_for_size(rows)) out += "  " + sentence + "\n";
        if (ranked_by_size.size() > 1)
            for (const auto& sentence : verdict_for_sweep(ranked_by_size)) out += "  " + sentence + "\n";
        out += "\nCOPIES/B: bytes through read/write/send/recv/msgsnd… per payload byte (0: the pages were shared). IN CALLS: share of "
               "the roles' wall time spent inside IPC syscalls.\n";
        return out;
    }

    json to_json(const Plan& plan, const std::vector<std::vector<ComparedRow>>& ranked_by_size, json runs,
                 const std::vector<std::string>& notes) const {
        json names = json::array();
        for (const auto* w : plan.workloads) names.push_back(std::string(w->name));
        json results = json::array();
        for (const auto& rows : ranked_by_size) {
            json ranking = json::array(), list = json::array();
            for (const auto& row : rows) {
                ranking.push_back(row.median.workload);
                list.push_back(figures_json(row));
            }
            results.push_back({{"message_size", rows.empty() ? 0 : rows.front().median.message_size},
                               {"ranking", ranking},
                               {"rows", list},
                               {"verdict", verdict_for_size(rows)}});
        }
        return {{"schema_version", kSchemaVersion},
                {"tool", {{"name", "ipctrace"}, {"version", IPCTRACE_VERSION}}},
                {"mode", "compare"},
                {"settings",
                 {{"workloads", names},
                  {"sizes", plan.sizes},
                  {"bytes_per_run", plan.count ? 0 : plan.bytes},
                  {"count", plan.count},
                  {"max_count_per_run", kMaxCountPerRun},
                  {"mode", std::string(workloads::to_string(plan.base.mode))},
                  {"sync", std::string(workloads::to_string(plan.base.sync))},
                  {"repeat", plan.repeat},
                  {"warmup", true}}},
                {"results", results},
                {"verdict", ranked_by_size.size() > 1 ? verdict_for_sweep(ranked_by_size) : std::vector<std::string>{}},
                {"runs", std::move(runs)},
                {"notes", notes}};
    }
};

}  // namespace

std::unique_ptr<Command> make_compare_command() { return std::make_unique<CompareCommand>(); }

}  // namespace ipctrace
