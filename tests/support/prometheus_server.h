// A real Prometheus (Debian's `prometheus` binary, not its service) for the --metrics test:
// a private data directory and config, a loopback port, scraping one target every second.
// Everything it made is gone when the object is.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ipctrace::testing {

// A background process with stdout and stderr in files; killed and reaped when destroyed.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& argv, const std::string& log_dir, const std::string& name);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    bool running();
    std::string stderr_text() const;
    // SIGTERM, then SIGKILL after `grace`; the exit code (128+signal when killed).
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::string err_path_;
};

// mkdtemp, and rm -rf at the end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class PrometheusServer {
public:
    // Starts prometheus scraping `target` ("127.0.0.1:PORT") every second; throws with its
    // log when it is not ready within `timeout`.
    PrometheusServer(const std::string& target, std::chrono::seconds timeout);

    // The value of an instant query that returns one sample: {sample timestamp in seconds,
    // value}; nullopt when the result is empty. Throws on an HTTP or query error.
    struct Sample {
        double timestamp = 0, value = 0;
    };
    std::optional<Sample> query(const std::string& promql);
    // The `data.result` of an instant query, whatever its size. Throws on an HTTP or query
    // error (a PromQL syntax error included).
    nlohmann::json query_result(const std::string& promql);
    std::string log() const { return process_ ? process_->stderr_text() : std::string(); }

private:
    TempDir dir_;
    uint16_t port_ = 0;
    std::optional<ChildProcess> process_;  // declared after dir_: stops before the files go
};

}  // namespace ipctrace::testing
