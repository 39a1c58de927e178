#include "catalog.h"

namespace ipctrace::workloads {

const std::vector<Workload>& all() {
    static const std::vector<Workload> list = {
        workload_shm(),  workload_sem(),    workload_msgq(),       workload_posix_shm(),
        workload_mmap(), workload_posix_mq(), workload_pipe(),     workload_fifo(),
        workload_unix(), workload_unix_dgram(), workload_tcp(),    workload_udp(),
        workload_signal(), workload_eventfd(), workload_file(),
    };
    return list;
}

const Workload* find(std::string_view name) {
    for (const auto& w : all())
        if (w.name == name) return &w;
    return nullptr;
}

}  // namespace ipctrace::workloads
