// `--metrics ADDR`: a Prometheus endpoint (/metrics) served while ipctrace traces. Every
// scrape calls the snapshot provider, which reads the in-kernel aggregates (the BPF maps) at
// that moment: nothing is done per event, and a scrape costs one pass over the maps.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "metrics/metrics_families.h"
#include "common/snapshot.h"

namespace prometheus {
class Exposer;
}

namespace ipctrace {

// Bad --metrics input: an address that does not parse, or one that cannot be listened on
// (port in use, address not on this host). The message is one line for the user (exit 2).
struct MetricsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ListenAddress {
    std::string host;   // an IPv4 literal: "127.0.0.1", "0.0.0.0"
    uint16_t port = 0;  // 0: any free port
    std::string civetweb() const;  // civetweb's listening_ports form: "127.0.0.1:9464"
};

// "9464" and ":9464" mean 127.0.0.1:9464 (loopback unless told otherwise); "HOST:PORT" with
// an IPv4 literal or "localhost". Host names are refused (binding must not depend on a
// resolver), and so is IPv6 (Debian's civetweb is built without it). Throws MetricsError.
ListenAddress parse_listen_address(const std::string& text);

class MetricsExporter {
public:
    // Listens on `bind_address` (parse_listen_address) right away, so a bad address or a
    // port in use fails before any tracing; throws MetricsError.
    MetricsExporter(const std::string& bind_address, std::function<Snapshot()> snapshot_provider,
                    size_t top_comms = kDefaultTopComms);
    ~MetricsExporter();
    MetricsExporter(const MetricsExporter&) = delete;
    MetricsExporter& operator=(const MetricsExporter&) = delete;

    // Where it listens, with the real port: "http://127.0.0.1:9464/metrics".
    const std::string& url() const { return url_; }

private:
    class Collector;
    std::shared_ptr<Collector> collector_;        // the Exposer holds only a weak_ptr to it
    std::unique_ptr<prometheus::Exposer> exposer_;  // stops serving before the collector goes
    ListenAddress bound_;                           // with the real port
    std::string url_;
};

}  // namespace ipctrace
