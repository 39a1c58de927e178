// The machine a report was measured on, for a page's header: numbers mean little without it.
#pragma once

#include <string>

namespace ipctrace {

struct MachineInfo {
    std::string hostname;
    std::string cpu_model;  // /proc/cpuinfo's "model name", "" when absent
    unsigned cpus = 0;      // online CPUs
    unsigned long long memory_bytes = 0;
};

MachineInfo machine_info();

}  // namespace ipctrace
