// Every bundled workload, one accessor each; registry.cpp lists them in `ipctrace list` order.
#pragma once
#include "workload.h"

namespace ipctrace::workloads {
// SysV and shared-memory family (sysv.cpp, shared_memory.cpp, posix_mq.cpp)
const Workload& workload_shm();
const Workload& workload_sem();
const Workload& workload_msgq();
const Workload& workload_posix_shm();
const Workload& workload_mmap();
const Workload& workload_posix_mq();
// fd-based family (pipes.cpp, sockets.cpp, signal.cpp, eventfd.cpp, file.cpp)
const Workload& workload_pipe();
const Workload& workload_fifo();
const Workload& workload_unix();
const Workload& workload_unix_dgram();
const Workload& workload_tcp();
const Workload& workload_udp();
const Workload& workload_signal();
const Workload& workload_eventfd();
const Workload& workload_file();
}  // namespace ipctrace::workloads
