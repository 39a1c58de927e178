/* The bound on the syscall numbers ipctrace counts by: the BPF rules table, the collector and
 * the workloads' own per-syscall counts (the oracle the tracer is checked against) share it.
 * The x86_64 numbers in syscall_table.h stay below it (the BPF table's initializer fails to
 * compile otherwise). Plain C, no BPF: the workloads include it. */
#ifndef IPCTRACE_SYSCALL_NR_H
#define IPCTRACE_SYSCALL_NR_H

#define IPC_MAX_SYSCALL_NR 512

#endif /* IPCTRACE_SYSCALL_NR_H */
