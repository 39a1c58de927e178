#include "metrics/metrics_exporter.h"

#include "common/number_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CivetServer.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

namespace ipctrace {
namespace {

// civetweb reports why it could not listen ("cannot bind to 127.0.0.1:9464: 98 (Address
// already in use)") only through its log callback, which gets no user pointer of ours. The
// listening sockets are opened in the constructing thread, so a thread-local target
// catches the message of our own start and nothing else.
thread_local std::string* g_start_log = nullptr;

int capture_log(const mg_connection*, const char* message) {
    if (g_start_log) {
        // The first message is the cause; "Failed to setup server ports" follows it.
        if (g_start_log->empty()) *g_start_log = message;
        return 1;  // handled: civetweb prints nothing
    }
    return 0;
}

// Threads started while this lives (civetweb's, the knocker) block every signal, so a
// process-directed SIGINT/SIGTERM always reaches the thread that waits for it: `trace`
// unblocks its stop signals only inside ppoll(), and a handler run by a server thread would
// set the stop flag without waking that wait.
class SignalsBlockedForNewThreads {
public:
    SignalsBlockedForNewThreads() {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old_);
    }
    ~SignalsBlockedForNewThreads() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    SignalsBlockedForNewThreads(const SignalsBlockedForNewThreads&) = delete;
    SignalsBlockedForNewThreads& operator=(const SignalsBlockedForNewThreads&) = delete;

private:
    sigset_t old_{};
};

// Two threads: a scrape and a slow second client can be served at once; more would only be
// idle on the machines ipctrace runs on. civetweb adds its master thread.
constexpr int kServerThreads = 2;

// Each civetweb thread, as it starts, sets SIGPIPE to SIG_IGN for the whole process, and an
// ignored signal survives fork and exec: the workload roles and a traced command (`trace --
// CMD`) would no longer die of a closed pipe. Its own sends use MSG_NOSIGNAL, so the
// disposition is put back in init_thread, which each thread calls right after, and the
// constructor waits for every thread to have done so before anything can fork.
struct SigpipeRestore {
    std::mutex mutex;
    std::condition_variable cv;
    int started = 0;
    struct sigaction original {};
} g_pipe;

void* restore_sigpipe(const mg_context*, int) {
    std::lock_guard lock(g_pipe.mutex);
    sigaction(SIGPIPE, &g_pipe.original, nullptr);
    ++g_pipe.started;
    g_pipe.cv.notify_all();
    return nullptr;
}

uint16_t parse_port(const std::string& text, const std::string& whole) {
    const auto value = parse_whole(text, 0, 65535);
    if (!value) throw MetricsError("--metrics " + whole + ": the port must be a number from 0 to 65535");
    return static_cast<uint16_t>(*value);
}

}  // namespace

std::string ListenAddress::civetweb() const {
    return host + ":" + std::to_string(port);
}

ListenAddress parse_listen_address(const std::string& text) {
    ListenAddress a;
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {  // "9464", ":9464": loopback
        a.host = "127.0.0.1";
        a.port = parse_port(colon == 0 ? text.substr(1) : text, text);
        return a;
    }
    std::string host = text.substr(0, colon);
    a.port = parse_port(text.substr(colon + 1), text);
    // Debian's civetweb is built without IPv6 ("invalid port spec"): say so up front.
    if (host.find(':') != std::string::npos || host.find('[') != std::string::npos)
        throw MetricsError("--metrics " + text + ": IPv6 addresses are not supported; give PORT or IPv4:PORT");
    if (host == "localhost") host = "127.0.0.1";
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) != 1)
        throw MetricsError("--metrics " + text + ": give PORT or IPv4:PORT ('" + host + "' is not an IPv4 address)");
    a.host = host;
    return a;
}

class MetricsExporter::Collector : public prometheus::Collectable {
public:
    Collector(std::function<Snapshot()> provider, size_t top_comms) : provider_(std::move(provider)), labeler_(top_comms) {}

    // Called by a civetweb thread per scrape. An exception must not leave it (it would
    // terminate ipctrace): a failed read answers with no samples, and Prometheus marks
    // this scrape's series stale instead of seeing counters drop.
    std::vector<prometheus::MetricFamily> Collect() const override {
        try {
            return metric_families(provider_(), labeler_);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ipctrace: metrics scrape: %s\n", e.what());
            return {};
        }
    }

private:
    std::function<Snapshot()> provider_;
    mutable CommLabeler labeler_;  // remembers which comms got a name, across scrapes
};

MetricsExporter::MetricsExporter(const std::string& bind_address, std::function<Snapshot()> snapshot_provider,
                                 size_t top_comms)
    : collector_(std::make_shared<Collector>(std::move(snapshot_provider), top_comms)) {
    const ListenAddress address = parse_listen_address(bind_address);
    static std::mutex one_start_at_a_time;  // g_start_log and g_pipe belong to one start
    const std::lock_guard one_start(one_start_at_a_time);
    {
        const std::lock_guard lock(g_pipe.mutex);
        sigaction(SIGPIPE, nullptr, &g_pipe.original);
        g_pipe.started = 0;
    }
    CivetCallbacks callbacks;
    callbacks.log_message = capture_log;
    callbacks.init_thread = restore_sigpipe;
    std::string start_log;
    g_start_log = &start_log;
    try {
        const SignalsBlockedForNewThreads blocked;
        exposer_ = std::make_unique<prometheus::Exposer>(
            std::vector<std::string>{"listening_ports", address.civetweb(), "num_threads", std::to_string(kServerThreads)},
            &callbacks);
    } catch (const std::exception& e) {
        g_start_log = nullptr;
        sigaction(SIGPIPE, &g_pipe.original, nullptr);
        throw MetricsError("--metrics " + bind_address + ": cannot listen: " + (start_log.empty() ? e.what() : start_log));
    }
    g_start_log = nullptr;
    {
        std::unique_lock lock(g_pipe.mutex);
        g_pipe.cv.wait_for(lock, std::chrono::seconds(5), [] { return g_pipe.started >= 1 + kServerThreads; });
        sigaction(SIGPIPE, &g_pipe.original, nullptr);  // as it was, even if a thread never reported
    }
    exposer_->RegisterCollectable(collector_);
    const auto ports = exposer_->GetListeningPorts();
    const uint16_t port = ports.empty() ? address.port : static_cast<uint16_t>(ports.front());
    bound_ = ListenAddress{address.host, port};
    url_ = "http://" + bound_.civetweb() + "/metrics";
}

// civetweb's listener waits in poll() with a 2 s quantum and sees the stop flag only when
// it wakes, so a plain stop takes up to 2 s (ipctrace would linger after Ctrl-C). Knocking
// on the port while the stop runs wakes it at once; a refused connect once it is closed is fine.
MetricsExporter::~MetricsExporter() {
    if (!exposer_) return;
    std::atomic<bool> stopped{false};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(bound_.port);
    inet_pton(AF_INET, bound_.host == "0.0.0.0" ? "127.0.0.1" : bound_.host.c_str(), &addr.sin_addr);
    std::optional<SignalsBlockedForNewThreads> blocked(std::in_place);
    std::thread knock([&] {
        while (!stopped) {
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0) {
                connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
                close(fd);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    blocked.reset();
    exposer_.reset();
    stopped = true;
    knock.join();
}

}  // namespace ipctrace
