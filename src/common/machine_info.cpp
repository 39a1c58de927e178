#include "common/machine_info.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <climits>
#include <fstream>

namespace ipctrace {

MachineInfo machine_info() {
    MachineInfo m;
    char host[HOST_NAME_MAX + 1] = {};
    if (gethostname(host, sizeof host - 1) == 0) m.hostname = host;
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) != 0) continue;
        const auto colon = line.find(':');
        if (colon != std::string::npos) m.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
        break;
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    m.cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 0;
    struct sysinfo si {};
    if (sysinfo(&si) == 0) m.memory_bytes = static_cast<unsigned long long>(si.totalram) * si.mem_unit;
    return m;
}

}  // namespace ipctrace
