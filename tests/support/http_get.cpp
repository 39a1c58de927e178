#include "http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ipctrace::testing {
namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

// Waits until `fd` is ready for `events` or the deadline passes.
bool ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    return poll(&p, 1, static_cast<int>(left.count())) == 1;
}

}  // namespace

HttpResponse http_get(const std::string& host, uint16_t port, const std::string& target, std::chrono::milliseconds timeout) {
    HttpResponse r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
        r.error = "not an IPv4 address: " + host;
        return r;
    }
    Fd s{socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (s.fd < 0 || (connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)) {
        r.error = std::string("connect: ") + std::strerror(errno);
        return r;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (!ready(s.fd, POLLOUT, deadline) || getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        r.error = std::string("connect: ") + (err ? std::strerror(err) : "timed out");
        return r;
    }
    const std::string request = "GET " + target + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    for (size_t sent = 0; sent < request.size();) {
        if (!ready(s.fd, POLLOUT, deadline)) {
            r.error = "send: timed out";
            return r;
        }
        const ssize_t n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            r.error = std::string("send: ") + std::strerror(errno);
            return r;
        }
        if (n > 0) sent += static_cast<size_t>(n);
    }
    std::string raw;
    char buf[16384];
    for (;;) {
        if (!ready(s.fd, POLLIN, deadline)) {
            r.error = "receive: timed out";
            return r;
        }
        const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0 && errno != EAGAIN) {
            r.error = std::string("receive: ") + std::strerror(errno);
            return r;
        }
        if (n > 0) raw.append(buf, static_cast<size_t>(n));
    }
    const auto head_end = raw.find("\r\n\r\n");
    if (raw.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) {
        r.error = "not an HTTP response: " + raw.substr(0, 200);
        return r;
    }
    r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
    r.body = raw.substr(head_end + 4);
    return r;
}

std::string url_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

uint16_t free_loopback_port() {
    Fd s{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (s.fd < 0 || bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error(std::string("free_loopback_port: ") + std::strerror(errno));
    return ntohs(addr.sin_port);
}

double sum_metric_samples(const std::string& text, const std::string& metric, const std::vector<std::string>& labels) {
    double sum = 0;
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(at, end - at);
        at = end + 1;
        if (line.rfind(metric + "{", 0) != 0) continue;
        const std::string label_set = line.substr(0, line.rfind('}') + 1);
        bool all = true;
        for (const auto& l : labels) all = all && label_set.find(l) != std::string::npos;
        if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

}  // namespace ipctrace::testing
