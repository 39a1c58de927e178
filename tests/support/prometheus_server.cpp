#include "prometheus_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_get.h"

namespace ipctrace::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_dir, const std::string& name)
    : err_path_(log_dir + "/" + name + ".stderr") {
    const std::string out_path = log_dir + "/" + name + ".stdout";
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int in = open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !exit_code_) stop(std::chrono::seconds(5));
}

bool ChildProcess::running() {
    if (exit_code_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }
    return true;
}

std::string ChildProcess::stderr_text() const {
    std::ifstream in(err_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
    if (!running()) return *exit_code_;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (running()) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        exit_code_ = 128 + SIGKILL;
    }
    return *exit_code_;
}

TempDir::TempDir() {
    char path[] = "/tmp/ipctrace-prometheus-XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    path_ = path;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

PrometheusServer::PrometheusServer(const std::string& target, std::chrono::seconds timeout) : port_(free_loopback_port()) {
    const std::string config = dir_.path() + "/prometheus.yml";
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 1s\n"
                             "  scrape_timeout: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: ipctrace\n"
                             "    static_configs:\n"
                             "      - targets: ['"
                          << target << "']\n";
    process_.emplace(std::vector<std::string>{"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.path() + "/data",
                                              "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
                     dir_.path(), "prometheus");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) throw std::runtime_error("prometheus exited at start:\n" + log());
        if (http_get("127.0.0.1", port_, "/-/ready", std::chrono::seconds(1)).status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("prometheus not ready after " + std::to_string(timeout.count()) + " s:\n" + log());
}

nlohmann::json PrometheusServer::query_result(const std::string& promql) {
    const auto r = http_get("127.0.0.1", port_, "/api/v1/query?query=" + url_encode(promql));
    if (r.status != 200) throw std::runtime_error("query " + promql + ": HTTP " + std::to_string(r.status) + " " + r.error + r.body);
    const auto doc = nlohmann::json::parse(r.body);
    if (doc.value("status", "") != "success") throw std::runtime_error("query " + promql + ": " + r.body);
    return doc["data"]["result"];
}

std::optional<PrometheusServer::Sample> PrometheusServer::query(const std::string& promql) {
    const auto result = query_result(promql);
    if (result.empty()) return std::nullopt;
    if (result.size() != 1) throw std::runtime_error("query " + promql + " has " + std::to_string(result.size()) + " samples: " + result.dump());
    const auto& value = result[0]["value"];  // [unix seconds, "value as text"]
    return Sample{value[0].get<double>(), std::stod(value[1].get<std::string>())};
}

}  // namespace ipctrace::testing
