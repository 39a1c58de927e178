// A plain HTTP/1.0 GET over a TCP socket, for tests that talk to ipctrace's /metrics and to
// Prometheus' API: no client library, and curl is not guaranteed on the machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ipctrace::testing {

struct HttpResponse {
    int status = 0;    // 0: no connection or no valid answer (see error)
    std::string body;
    std::string error;
};

// GET http://host:port/target (host: an IPv4 literal). Never throws; gives up after `timeout`.
HttpResponse http_get(const std::string& host, uint16_t port, const std::string& target,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Percent-encodes a query value (PromQL has spaces, braces and quotes).
std::string url_encode(const std::string& text);

// The sum of the samples of `metric` in a /metrics answer (Prometheus' text format, one
// `name{k="v",…} value` a line) whose labels include every one of `labels` (`k="v"` each).
double sum_metric_samples(const std::string& text, const std::string& metric, const std::vector<std::string>& labels);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
uint16_t free_loopback_port();

}  // namespace ipctrace::testing
