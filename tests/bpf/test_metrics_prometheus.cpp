// `--metrics` scraped by a real Prometheus: a workload runs under `ipctrace run --metrics
// --hold`, Prometheus scrapes it every second, and what Prometheus stored after the run
// equals ipctrace's own JSON report of the same run.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_get.h"
#include "prometheus_server.h"
#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Polls `ready` every 100 ms until it is true or `timeout` passes.
template <typename F>
bool wait_until(F ready, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (ready()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return ready();
}

TEST(MetricsPrometheus, ScrapedCountersEqualTheJsonReport) {
    IPCTRACE_REQUIRE_ROOT();
    if (run({"sh", "-c", "command -v prometheus"}).exit_code != 0) {
        if (std::getenv("CI")) FAIL() << "prometheus is not installed (scripts/setup.sh installs it)";
        GTEST_SKIP() << "prometheus is not installed";
    }
    const auto started = Clock::now();
    const std::string target = "127.0.0.1:" + std::to_string(free_loopback_port());
    PrometheusServer prometheus(target, 25s);

    TempDir work;
    const std::string report_path = work.path() + "/report.json";
    // --hold outlasts the test's waits; the test ends it with SIGTERM once it has checked.
    ChildProcess ipctrace({ipctrace_bin(), "run", "msgq", "--count", "3000", "--size", "512", "--json", "-o", report_path,
                           "--metrics", target, "--hold", "60"},
                          work.path(), "ipctrace");
    ASSERT_TRUE(wait_until([&] { return ipctrace.stderr_text().find("holding the final metrics") != std::string::npos || !ipctrace.running(); },
                           20s))
        << ipctrace.stderr_text();
    ASSERT_TRUE(ipctrace.running()) << "ipctrace ended before its hold:\n" << ipctrace.stderr_text();
    const double run_done = unix_now();  // the report is written: the maps were read for the last time
    const auto report = nlohmann::json::parse(slurp(report_path));
    ASSERT_TRUE(report["workload"]["ok"].get<bool>()) << report["workload"].dump();

    // A scrape that began after the run ended has the final values.
    std::optional<PrometheusServer::Sample> last;
    ASSERT_TRUE(wait_until(
        [&] {
            last = prometheus.query("timestamp(ipctrace_build_info)");
            return last && last->value > run_done;
        },
        20s))
        << "no scrape after the run; Prometheus log:\n"
        << prometheus.log() << "\nipctrace:\n"
        << ipctrace.stderr_text();

    auto scraped = [&](const std::string& promql) {
        const auto s = prometheus.query(promql);
        if (!s) ADD_FAILURE() << "no sample for " << promql;
        return s ? s->value : -1.0;
    };
    const auto& msg = report["mechanisms"]["sysv_msg"];
    for (const char* sc : {"msgsnd", "msgrcv"}) {
        const std::string sel = std::string("{mechanism=\"sysv_msg\",syscall=\"") + sc + "\"}";
        EXPECT_EQ(scraped("sum(ipctrace_syscalls_total" + sel + ")"), msg["syscalls"][sc]["count"].get<double>()) << sc;
        EXPECT_EQ(scraped("sum(ipctrace_syscall_errors_total" + sel + ")"), msg["syscalls"][sc]["errors"].get<double>()) << sc;
        EXPECT_EQ(scraped("sum(ipctrace_syscall_duration_seconds_count" + sel + ")"), msg["syscalls"][sc]["count"].get<double>()) << sc;
        // The two quantile estimates interpolate inside the same log2 bucket.
        const double p99_json = msg["syscalls"][sc]["p99_ns"].get<double>() / 1e9;
        const double p99_prom = scraped("histogram_quantile(0.99, sum by (le) (ipctrace_syscall_duration_seconds_bucket" + sel + "))");
        EXPECT_GT(p99_prom, p99_json / 2) << sc;
        EXPECT_LT(p99_prom, p99_json * 2) << sc;
    }
    EXPECT_EQ(msg["syscalls"]["msgsnd"]["count"].get<double>(), 3000);
    EXPECT_EQ(scraped("sum(ipctrace_bytes_total{mechanism=\"sysv_msg\",direction=\"to_kernel\"})"), msg["bytes_to_kernel"].get<double>());
    EXPECT_EQ(scraped("sum(ipctrace_bytes_total{mechanism=\"sysv_msg\",direction=\"from_kernel\"})"), msg["bytes_from_kernel"].get<double>());
    EXPECT_EQ(scraped("sum(ipctrace_page_faults_total)"), report["page_faults"]["total"].get<double>());
    EXPECT_EQ(scraped("sum(ipctrace_context_switches_total{kind=\"voluntary\"})"), report["context_switches"]["voluntary"].get<double>());
    EXPECT_EQ(scraped("sum(ipctrace_context_switches_total{kind=\"involuntary\"})"),
              report["context_switches"]["involuntary"].get<double>());
    EXPECT_EQ(scraped("ipctrace_lost_events_total"), report["lost_events"].get<double>());
    EXPECT_EQ(scraped("up{job=\"ipctrace\"}"), 1);

    // Every query of the Grafana dashboard is valid PromQL over these metrics, with its
    // variables set to "all" and Grafana's intervals to a few scrapes.
    const auto dashboard = nlohmann::json::parse(slurp(IPCTRACE_DOCS "/dashboards/grafana.json"));
    int queries = 0;
    for (const auto& panel : dashboard["panels"])
        for (const auto& t : panel["targets"]) {
            std::string expr = t["expr"];
            for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
                     {"$__rate_interval", "10s"}, {"$__range", "1m"}, {"$instance", ".*"}, {"$mechanism", ".*"}, {"$job", ".*"}})
                for (size_t at; (at = expr.find(from)) != std::string::npos;) expr.replace(at, from.size(), to);
            ++queries;
            try {
                // rate() needs two scrapes with the series: the first may be the only one yet.
                if (panel["title"] == "Syscalls/s by mechanism") {
                    EXPECT_TRUE(wait_until([&] { return !prometheus.query_result(expr).empty(); }, 10s)) << expr;
                } else {
                    prometheus.query_result(expr);
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << panel["title"] << ": " << e.what();
            }
        }
    EXPECT_GE(queries, 10);

    // SIGTERM ends the hold; the run itself succeeded, so the exit code stays 0.
    const auto stop_began = Clock::now();
    EXPECT_EQ(ipctrace.stop(10s), 0) << ipctrace.stderr_text();
    EXPECT_LT(Clock::now() - stop_began, 2s) << "the exporter should stop at once";
    EXPECT_LT(Clock::now() - started, 60s);
}

TEST(MetricsPrometheus, TraceServesTheMapsWhileItRuns) {
    IPCTRACE_REQUIRE_ROOT();
    TempDir work;
    const uint16_t port = free_loopback_port();
    const std::string report_path = work.path() + "/trace.json";
    // The command's IPC happens first; the scrapes come while it sleeps, before the trace ends.
    ChildProcess trace({ipctrace_bin(), "trace", "--metrics", "127.0.0.1:" + std::to_string(port), "--json", "-o", report_path, "--", "sh",
                        "-c", ipctrace_bin() + " run msgq --count 1500 --no-trace >/dev/null && sleep 3"},
                       work.path(), "trace");
    double live = -1;
    const bool seen = wait_until(
        [&] {
            const auto r = http_get("127.0.0.1", port, "/metrics", 1s);
            if (r.status == 200) live = sum_metric_samples(r.body, "ipctrace_syscalls_total", {"mechanism=\"sysv_msg\"", "syscall=\"msgsnd\""});
            return live == 1500 || !trace.running();
        },
        20s);
    EXPECT_TRUE(seen && trace.running()) << "no scrape while tracing saw the 1500 msgsnd (last: " << live << ")\n" << trace.stderr_text();
    EXPECT_EQ(live, 1500);
    EXPECT_TRUE(wait_until([&] { return !trace.running(); }, 20s));
    EXPECT_EQ(trace.stop(), 0) << trace.stderr_text();
    const auto report = nlohmann::json::parse(slurp(report_path));
    EXPECT_EQ(report["mechanisms"]["sysv_msg"]["syscalls"]["msgsnd"]["count"], 1500);
    bool noted = false;
    for (const auto& note : report["notes"]) noted |= note.get<std::string>().find("metrics served on http://127.0.0.1:") == 0;
    EXPECT_TRUE(noted) << report["notes"].dump() << ": a command's stderr is its own, the URL goes into the report";
}

TEST(MetricsPrometheus, BadAddressOrBusyPortIsOneLineAndExit2) {
    IPCTRACE_REQUIRE_ROOT();
    for (const char* bad : {"nonsense", "127.0.0.1:99999", "[::1]:9464"}) {
        for (const auto& command : {std::vector<std::string>{"run", "msgq", "--count", "10"}, std::vector<std::string>{"trace", "--all", "-d", "1"}}) {
            std::vector<std::string> argv{ipctrace_bin()};
            argv.insert(argv.end(), command.begin(), command.end());
            argv.insert(argv.end(), {"--metrics", bad});
            const auto r = run(argv);
            EXPECT_EQ(r.exit_code, 2) << command[0] << " " << bad << ": " << r.err;
            EXPECT_NE(r.err.find("ipctrace: --metrics " + std::string(bad) + ": "), std::string::npos) << r.err;
        }
    }
    // A port another process listens on.
    TempDir work;
    const std::string busy = "127.0.0.1:" + std::to_string(free_loopback_port());
    ChildProcess holder({ipctrace_bin(), "run", "msgq", "--count", "10", "--metrics", busy, "--hold", "30"}, work.path(), "holder");
    ASSERT_TRUE(wait_until([&] { return holder.stderr_text().find("holding") != std::string::npos; }, 20s)) << holder.stderr_text();
    const auto r = run({ipctrace_bin(), "run", "msgq", "--count", "10", "--metrics", busy});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("cannot listen"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
    EXPECT_EQ(holder.stop(10s), 0);
}

}  // namespace
}  // namespace ipctrace::testing
