/* The one table of truth: which syscalls ipctrace traces, how each finds its IPC
 * mechanism and which bytes it moves. Included by ipctrace.bpf.c (rules indexed by
 * syscall number) and by the collector (names, and a check of every number against
 * <sys/syscall.h>). Adding a syscall is one line here.
 *
 * IPC_SYSCALL(name, x86_64 nr, classify, mechanism, bytes, arg, object)
 * `object` names the IPC object a call acts on, for the who-talks-to-whom map.
 * No include guard: the includer defines IPC_SYSCALL. */

/* System V shared memory, semaphores, message queues */
IPC_SYSCALL(shmget,            29, CLS_FIXED, MECH_SYSV_SHM, BYTES_NONE, 0, OBJ_RET)
IPC_SYSCALL(shmat,             30, CLS_FIXED, MECH_SYSV_SHM, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(shmctl,            31, CLS_FIXED, MECH_SYSV_SHM, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(shmdt,             67, CLS_FIXED, MECH_SYSV_SHM, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(semget,            64, CLS_FIXED, MECH_SYSV_SEM, BYTES_NONE, 0, OBJ_RET)
IPC_SYSCALL(semop,             65, CLS_FIXED, MECH_SYSV_SEM, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(semctl,            66, CLS_FIXED, MECH_SYSV_SEM, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(semtimedop,       220, CLS_FIXED, MECH_SYSV_SEM, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(msgget,            68, CLS_FIXED, MECH_SYSV_MSG, BYTES_NONE, 0, OBJ_RET)
IPC_SYSCALL(msgsnd,            69, CLS_FIXED, MECH_SYSV_MSG, BYTES_ARG_IN, 2, OBJ_ARG0)
IPC_SYSCALL(msgrcv,            70, CLS_FIXED, MECH_SYSV_MSG, BYTES_RET_OUT, 0, OBJ_ARG0)
IPC_SYSCALL(msgctl,            71, CLS_FIXED, MECH_SYSV_MSG, BYTES_NONE, 0, OBJ_ARG0)

/* POSIX message queues */
IPC_SYSCALL(mq_open,          240, CLS_FIXED, MECH_POSIX_MQ, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(mq_unlink,        241, CLS_FIXED, MECH_POSIX_MQ, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(mq_timedsend,     242, CLS_FIXED, MECH_POSIX_MQ, BYTES_ARG_IN, 2, OBJ_FD)
IPC_SYSCALL(mq_timedreceive,  243, CLS_FIXED, MECH_POSIX_MQ, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(mq_notify,        244, CLS_FIXED, MECH_POSIX_MQ, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(mq_getsetattr,    245, CLS_FIXED, MECH_POSIX_MQ, BYTES_NONE, 0, OBJ_FD)

/* Shared mappings: POSIX shm (/dev/shm, memfd), shared file and anonymous mappings */
IPC_SYSCALL(mmap,               9, CLS_MMAP, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(munmap,            11, CLS_ADDR, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(msync,             26, CLS_ADDR, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
/* Never IPC: counted only among the process's memory mappings, as mmap and munmap are too */
IPC_SYSCALL(mprotect,          10, CLS_MAPPING, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(mremap,            25, CLS_MAPPING, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(memfd_create,     319, CLS_FIXED, MECH_POSIX_SHM, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(open,               2, CLS_SHM_PATH, MECH_POSIX_SHM, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(openat,           257, CLS_SHM_PATH, MECH_POSIX_SHM, BYTES_NONE, 1, OBJ_NONE)
IPC_SYSCALL(unlink,            87, CLS_SHM_PATH, MECH_POSIX_SHM, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(unlinkat,         263, CLS_SHM_PATH, MECH_POSIX_SHM, BYTES_NONE, 1, OBJ_NONE)
IPC_SYSCALL(ftruncate,         77, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)

/* Futexes: where POSIX semaphores, process-shared mutexes and condvars sleep. A private futex
 * (glibc's pthread_once, a thread-local mutex) cannot synchronise two processes: not IPC. */
IPC_SYSCALL(futex,            202, CLS_FUTEX, MECH_FUTEX, BYTES_NONE, 1, OBJ_NONE)
IPC_SYSCALL(futex_waitv,      449, CLS_FIXED, MECH_FUTEX, BYTES_NONE, 0, OBJ_NONE)

/* Pipes and FIFOs */
IPC_SYSCALL(pipe,              22, CLS_FIXED, MECH_PIPE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(pipe2,            293, CLS_FIXED, MECH_PIPE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(mknod,            133, CLS_MKNOD_FIFO, MECH_FIFO, BYTES_NONE, 1, OBJ_NONE)
IPC_SYSCALL(mknodat,          259, CLS_MKNOD_FIFO, MECH_FIFO, BYTES_NONE, 2, OBJ_NONE)

/* Data calls on any fd: the mechanism is the kind of file behind the fd */
IPC_SYSCALL(read,               0, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(write,              1, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(pread64,           17, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(pwrite64,          18, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(readv,             19, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(writev,            20, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(preadv,           295, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(pwritev,          296, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(preadv2,          327, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
IPC_SYSCALL(pwritev2,         328, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)

/* Sockets */
IPC_SYSCALL(socket,            41, CLS_SOCKET, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(socketpair,        53, CLS_SOCKET, MECH_NONE, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(connect,           42, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(accept,            43, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(accept4,          288, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(bind,              49, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(listen,            50, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(shutdown,          48, CLS_FD, MECH_NONE, BYTES_NONE, 0, OBJ_FD)
IPC_SYSCALL(sendto,            44, CLS_FD, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(recvfrom,          45, CLS_FD, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
/* sendmsg/recvmsg: also the descriptors passed with SCM_RIGHTS (bpf/fd_passing.h) */
IPC_SYSCALL(sendmsg,           46, CLS_FD_MSG, MECH_NONE, BYTES_RET_IN, 0, OBJ_FD)
IPC_SYSCALL(recvmsg,           47, CLS_FD_MSG, MECH_NONE, BYTES_RET_OUT, 0, OBJ_FD)
/* sendmmsg/recvmmsg return a message count: the bytes are each message's msg_len (bpf/mmsg.h);
 * their SCM_RIGHTS descriptors are walked message by message */
IPC_SYSCALL(sendmmsg,         307, CLS_FD_MSG, MECH_NONE, BYTES_MMSG_IN, 0, OBJ_FD)
IPC_SYSCALL(recvmmsg,         299, CLS_FD_MSG, MECH_NONE, BYTES_MMSG_OUT, 0, OBJ_FD)

/* Zero-copy transfers: counted on the mechanism of their first fd */
IPC_SYSCALL(sendfile,          40, CLS_FD, MECH_NONE, BYTES_RET_ZERO, 0, OBJ_FD)
IPC_SYSCALL(splice,           275, CLS_FD, MECH_NONE, BYTES_RET_ZERO, 0, OBJ_FD)
IPC_SYSCALL(tee,              276, CLS_FD, MECH_NONE, BYTES_RET_ZERO, 0, OBJ_FD)
IPC_SYSCALL(vmsplice,         278, CLS_FD, MECH_NONE, BYTES_RET_ZERO, 0, OBJ_FD)

/* eventfd */
IPC_SYSCALL(eventfd,          284, CLS_FIXED, MECH_EVENTFD, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(eventfd2,         290, CLS_FIXED, MECH_EVENTFD, BYTES_NONE, 0, OBJ_NONE)

/* Signals: sending, and waiting for one */
IPC_SYSCALL(kill,              62, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(tkill,            200, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(tgkill,           234, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(rt_sigqueueinfo,  129, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(rt_tgsigqueueinfo, 297, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_ARG0)
IPC_SYSCALL(pidfd_send_signal, 424, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(rt_sigtimedwait,  128, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(rt_sigsuspend,    130, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(pause,             34, CLS_FIXED, MECH_SIGNAL, BYTES_NONE, 0, OBJ_NONE)

/* Waits (bpf/waits.h): counted under "wait" with their blocked time, which is split among the
 * mechanisms of the descriptors they return ready; epoll_ctl tells what each registration is. */
IPC_SYSCALL(poll,               7, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(select,            23, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(epoll_wait,       232, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(epoll_ctl,        233, CLS_EPOLL_CTL, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(pselect6,         270, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(ppoll,            271, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(epoll_pwait,      281, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(epoll_pwait2,     441, CLS_WAIT, MECH_WAIT, BYTES_NONE, 0, OBJ_NONE)
/* Cross-memory attach: bytes copied once, directly between the caller's and pid arg0's address
 * spaces (no kernel buffer); the object is that pid, the map's edge runs the way the data went */
IPC_SYSCALL(process_vm_readv,  310, CLS_FIXED, MECH_CROSS_MEMORY, BYTES_DIRECT_FROM, 0, OBJ_ARG0)
IPC_SYSCALL(process_vm_writev, 311, CLS_FIXED, MECH_CROSS_MEMORY, BYTES_DIRECT_TO, 0, OBJ_ARG0)

/* io_uring: the ring's own syscalls. The operations it carries are counted apart, by opcode
 * and by the mechanism of their file (bpf/io_uring.h) */
IPC_SYSCALL(io_uring_setup,    425, CLS_FIXED, MECH_IO_URING, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(io_uring_enter,    426, CLS_FIXED, MECH_IO_URING, BYTES_NONE, 0, OBJ_NONE)
IPC_SYSCALL(io_uring_register, 427, CLS_FIXED, MECH_IO_URING, BYTES_NONE, 0, OBJ_NONE)
