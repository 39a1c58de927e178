#include "render/palette.h"

#include <map>

#include "workload.h"

namespace ipctrace {

std::string mechanism_colour(std::string_view key) {
    // Families share a hue: SysV and POSIX shared memory greens, queues purples, pipes and
    // FIFOs blues, sockets oranges and reds; chosen to stay apart for common colour blindness.
    static const std::map<std::string_view, const char*> colours = {
        {"sysv_shm", "#1b9e77"},    {"posix_shm", "#66c2a5"},   {"mmap_file", "#2ca25f"}, {"mmap_anon", "#99d8c9"},
        {"sysv_sem", "#7f7f7f"},    {"futex", "#b3b3b3"},       {"sysv_msg", "#7570b3"},  {"posix_mq", "#b3a2e0"},
        {"pipe", "#1f78b4"},        {"fifo", "#a6cee3"},        {"unix_stream", "#e6550d"}, {"unix_dgram", "#fdae6b"},
        {"tcp", "#d62728"},         {"udp", "#ff9896"},         {"eventfd", "#bcbd22"},   {"signal", "#e7298a"},
        {"file", "#8c564b"},        {"other", "#d9d9d9"},
    };
    const auto it = colours.find(key);
    return it != colours.end() ? it->second : "#999999";
}

std::string workload_colour(std::string_view workload) {
    const workloads::Workload* w = workloads::find(workload.substr(0, workload.find(':')));
    return mechanism_colour(w && !w->mechanisms.empty() ? w->mechanisms.front() : "");
}

}  // namespace ipctrace
