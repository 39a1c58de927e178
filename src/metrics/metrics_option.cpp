#include "metrics/metrics_option.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "collect/stop_signals.h"
#include "common/number_parse.h"

namespace ipctrace {
namespace {

constexpr double kMaxHoldS = 24 * 3600;
constexpr size_t kMaxComms = 1000;  // beyond that, per-comm series are no longer a bounded set

std::optional<double> parse_hold(const std::string& text) { return parse_decimal(text, 0, kMaxHoldS); }

std::optional<uint64_t> parse_comms(const std::string& text) { return parse_whole(text, 0, kMaxComms); }

}  // namespace

void MetricsOptionText::add_to(CLI::App& cmd, bool with_hold) {
    cmd.add_option("--metrics", address,
                   "Serve Prometheus metrics at http://ADDR/metrics while tracing: PORT or IPv4:PORT, loopback unless an "
                   "address is given (docs/dashboards)")
        ->type_name("ADDR");
    cmd.add_option("--metrics-comms", comms, "Process names that keep their own comm label; the rest are 'other' (default 20)")
        ->type_name("N");
    if (with_hold)
        cmd.add_option("--hold", hold, "With --metrics: keep serving the final values SEC seconds after the run (Ctrl-C ends it)")
            ->type_name("SEC");
}

Status MetricsOptionText::check() const {
    if (address.empty()) {
        if (!comms.empty()) return unexpected("--metrics-comms needs --metrics");
        if (!hold.empty()) return unexpected("--hold needs --metrics");
        return {};
    }
    try {
        parse_listen_address(address);
    } catch (const MetricsError& e) {
        return unexpected(e.what());
    }
    if (!comms.empty() && !parse_comms(comms))
        return unexpected("--metrics-comms: '" + comms + "' is not a number from 0 to " + std::to_string(kMaxComms));
    if (!hold.empty() && !parse_hold(hold)) return unexpected("--hold: '" + hold + "' is not a number of seconds from 0 to 86400");
    return {};
}

MetricsServing::MetricsServing(const MetricsOptionText& text, bool announce) {
    if (text.address.empty()) return;
    if (auto st = text.check(); !st) throw MetricsError(st.error());
    const size_t comms = text.comms.empty() ? kDefaultTopComms : *parse_comms(text.comms);
    hold_s_ = text.hold.empty() ? 0 : *parse_hold(text.hold);
    exporter_ = std::make_unique<MetricsExporter>(text.address, [this] { return live_.get(); }, comms);
    if (announce) std::fprintf(stderr, "ipctrace: serving metrics on %s\n", exporter_->url().c_str());
}

void MetricsServing::hold() const {
    if (!exporter_ || hold_s_ <= 0) return;
    std::fprintf(stderr, "ipctrace: holding the final metrics for %g s (Ctrl-C ends it)\n", hold_s_);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(hold_s_);
    // Short naps: the stop signal only sets a flag.
    while (!stop_requested() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace ipctrace
