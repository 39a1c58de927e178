/* Structures and constants shared by ipctrace.bpf.c and the C++ collector.
 * Plain C, fixed-width fields only: both compilers must agree on every layout. */
#ifndef IPCTRACE_H
#define IPCTRACE_H

#include "object_id.h"
#include "syscall_nr.h"

/* Call latencies, a log-linear histogram kept by the kernel side. Below 2^IPC_HIST_FINE_SHIFT ns
 * bucket k holds [2^k, 2^(k+1)) ns (bucket 0 also 0 ns); above, each power of two is split into
 * IPC_HIST_SUB equal buckets, each at most 1/8 (12.5 %) of its lower bound wide, so a quantile
 * read from them is that close. Calls of 2^39 ns (9 min) or longer count in the last bucket.
 * Summing each power of two's buckets gives the log2 view (IPC_HIST_SLOTS slots: slot k holds
 * [2^k, 2^(k+1)) ns), which JSON's latency_log2_ns and Prometheus show. */
#define IPC_HIST_SLOTS 40
#define IPC_HIST_FINE_SHIFT 6 /* 64 ns: no traced call is shorter than its probes' own clock reads */
#define IPC_HIST_SUB_BITS 3
#define IPC_HIST_SUB (1 << IPC_HIST_SUB_BITS)
#define IPC_HIST_BUCKETS (IPC_HIST_FINE_SHIFT + (IPC_HIST_SLOTS - IPC_HIST_FINE_SHIFT) * IPC_HIST_SUB) /* 278 */

/* floor(log2(v)), 0 for v = 0: shifts only, which BPF has and both sides compute alike. */
static inline unsigned ipc_log2(unsigned long long v)
{
	unsigned r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (unsigned)(v >> 1);
}

/* The bucket of a duration in ns. */
static inline unsigned ipc_hist_bucket(unsigned long long ns)
{
	unsigned k = ipc_log2(ns);

	if (k < IPC_HIST_FINE_SHIFT)
		return k;
	if (k >= IPC_HIST_SLOTS)
		return IPC_HIST_BUCKETS - 1;
	return IPC_HIST_FINE_SHIFT + (k - IPC_HIST_FINE_SHIFT) * IPC_HIST_SUB +
	       (unsigned)((ns >> (k - IPC_HIST_SUB_BITS)) & (IPC_HIST_SUB - 1));
}

/* The lowest duration of bucket b, in ns; bucket b ends where b + 1 begins. */
static inline unsigned long long ipc_hist_lower_ns(unsigned b)
{
	unsigned k, sub;

	if (b < IPC_HIST_FINE_SHIFT)
		return b == 0 ? 0 : 1ULL << b;
	k = IPC_HIST_FINE_SHIFT + (b - IPC_HIST_FINE_SHIFT) / IPC_HIST_SUB;
	sub = (b - IPC_HIST_FINE_SHIFT) % IPC_HIST_SUB;
	return (unsigned long long)(IPC_HIST_SUB + sub) << (k - IPC_HIST_SUB_BITS);
}

/* The log2 slot bucket b lies in. */
static inline unsigned ipc_hist_slot(unsigned b)
{
	return b < IPC_HIST_FINE_SHIFT ? b : IPC_HIST_FINE_SHIFT + (b - IPC_HIST_FINE_SHIFT) / IPC_HIST_SUB;
}
#define IPC_COMM_LEN 16
/* The imm of the program's bpf_rdonly_cast calls until the collector writes the kfunc's kernel
 * BTF id there (bpf/task.h, src/probe/kernel_btf.h): no BTF id is this large. */
#define IPC_KFUNC_RDONLY_CAST_MARK 0x7ffffff0

/* The maps' built-in sizes (max_entries in bpf/maps.h). The collector reads them back from the
 * object (bpf_map__max_entries) and may resize before load (--max-procs). */
#define IPC_DEFAULT_TARGETS 8192      /* followed processes */
#define IPC_DEFAULT_PROCS 16384       /* process records */
#define IPC_DEFAULT_STATS 16384       /* syscall_stats, proc_mech_stats and objects, each */
#define IPC_DEFAULT_OBJECT_NAMES 4096 /* names of FIFO, POSIX shm and mqueue objects */
#define IPC_DEFAULT_URING_REQS 4096   /* io_uring submissions remembered for cqes posted without them */

/* The mechanisms, from mechanisms.def (their JSON keys are in the same table). */
enum ipc_mechanism {
#define IPC_MECHANISM(id, key, is_ipc) id,
#include "mechanisms.def"
#undef IPC_MECHANISM
	MECH_COUNT,
};

/* How sys_enter finds the mechanism of a call. */
enum ipc_classify {
	CLS_NONE = 0,   /* syscall not traced */
	CLS_FIXED,      /* the table's mechanism */
	CLS_FD,         /* by the file behind fd arg0 (pipe, fifo, socket kind, eventfd, regular file) */
	CLS_MMAP,       /* by mmap's flags and fd: private mappings are not IPC */
	CLS_ADDR,       /* by the mapping found at address arg0 (munmap, msync) */
	CLS_SOCKET,     /* by socket()/socketpair()'s domain and type */
	CLS_SHM_PATH,   /* a path (argument `arg`) under /dev/shm: shm_open, shm_unlink */
	CLS_MKNOD_FIFO, /* mknod/mknodat whose mode (argument `arg`) is S_IFIFO: mkfifo */
	CLS_FUTEX,      /* futex whose op (argument `arg`) is not FUTEX_PRIVATE_FLAG: only those can link processes */
	CLS_MAPPING,    /* mprotect, mremap: only counted among the process's memory mappings, never IPC */
	/* Waits and passed descriptors (bpf/waits.h, bpf/fd_passing.h): more work at sys_exit */
	CLS_WAIT,       /* epoll_wait, poll, select…: the table's mechanism (MECH_WAIT); the time split by what became ready */
	CLS_EPOLL_CTL,  /* epoll_ctl: the table's mechanism; remembers what each registration is */
	CLS_FD_MSG,     /* sendmsg, recvmsg: as CLS_FD, plus the descriptors passed with SCM_RIGHTS */
};

/* Which bytes a successful call moved across the user/kernel boundary. */
enum ipc_bytes {
	BYTES_NONE = 0,
	BYTES_RET_IN,   /* return value, user → kernel (write, send*) */
	BYTES_RET_OUT,  /* return value, kernel → user (read, recv*, msgrcv) */
	BYTES_ARG_IN,   /* the argument `arg`, user → kernel, on success (msgsnd) */
	BYTES_RET_ZERO, /* return value, moved without a user copy (splice, sendfile, tee, vmsplice) */
	/* Issue 18, cross-memory attach: the return value, copied once between two address spaces */
	BYTES_DIRECT_FROM, /* from pid arg0's memory into the caller's (process_vm_readv) */
	BYTES_DIRECT_TO,   /* from the caller's memory into pid arg0's (process_vm_writev) */
	/* sendmmsg/recvmmsg: the msg_len of the messages moved (bpf/mmsg.h) */
	BYTES_MMSG_IN,  /* user → kernel (sendmmsg) */
	BYTES_MMSG_OUT, /* kernel → user (recvmmsg) */
};

/* Which IPC object a call acts on, for the who-talks-to-whom map. */
enum ipc_object {
	OBJ_NONE = 0,
	OBJ_FD,   /* the file behind fd arg0: pipe/FIFO/mq inode, socket pair or connection, eventfd */
	OBJ_ARG0, /* argument 0: a SysV id, or the pid a signal is sent to */
	OBJ_RET,  /* the return value: the id shmget/semget/msgget return */
};

struct syscall_rule {
	unsigned char classify; /* enum ipc_classify */
	unsigned char mechanism; /* enum ipc_mechanism, for CLS_FIXED */
	unsigned char bytes;    /* enum ipc_bytes */
	unsigned char arg;      /* argument index read by BYTES_ARG_IN, CLS_SHM_PATH, CLS_MKNOD_FIFO */
	unsigned char object;   /* enum ipc_object */
};

/* Aggregation key of the per-call statistics. */
struct syscall_key {
	unsigned int tgid;
	unsigned short nr;
	unsigned char mechanism;
	unsigned char pad;
};

/* No call count: it is the sum of hist (the collector adds it up), one atomic add fewer per call. */
struct syscall_stats {
	unsigned long long errors;
	unsigned long long total_ns;
	unsigned long long bytes_in;   /* user → kernel */
	unsigned long long bytes_out;  /* kernel → user */
	unsigned long long bytes_zero_copy;
	unsigned long long bytes_direct; /* BYTES_DIRECT_*: copied once, address space to address space */
	unsigned long long voluntary_switches;   /* blocked inside the call (the task's nvcsw moved) */
	unsigned long long involuntary_switches; /* preempted inside it (nivcsw) */
	unsigned long long hist[IPC_HIST_BUCKETS];
};

/* Per process and mechanism: what is not a syscall. */
struct proc_mech_key {
	unsigned int tgid;
	unsigned int mechanism;
};

struct proc_mech_stats {
	unsigned long long page_faults;      /* faults on this mechanism's shared mappings */
	unsigned long long copy_faults;      /* kernel-mode faults on user buffers inside its calls */
	unsigned long long voluntary_switches;   /* blocked inside one of its calls */
	unsigned long long involuntary_switches; /* preempted inside one of its calls */
	unsigned long long signals_sent;
	unsigned long long signals_delivered;
	unsigned long long all_syscalls;     /* MECH_NONE's entry: every syscall of the process, IPC or not */
	/* MECH_NONE's entry: the process's memory-mapping calls, IPC or not (strace -c's counts) */
	unsigned long long mmap_private_file; /* the loader's libraries, a read-only data file */
	unsigned long long mmap_private_anon; /* malloc's arenas, thread stacks */
	unsigned long long mmap_shared;       /* MAP_SHARED of anything */
	unsigned long long munmaps;
	unsigned long long mprotects;
	unsigned long long mremaps;
	unsigned long long file_faults;       /* of page_faults, those in file-backed mappings (not anonymous memory) */
};

/* Per process, mechanism and IPC object (trace's communication map). */
struct object_key {
	unsigned int tgid;
	unsigned int mechanism;
	unsigned long long object; /* see object_id.h and enum ipc_object */
};

/* The name of a FIFO, POSIX shm or mqueue object, recorded once (trace's map). key.tgid is 0.
 * part[0] is the file's own name, part[1] its directory's, and so on up to the root of the
 * mount tree; `truncated` when there were more than IPC_NAME_PARTS of them. */
#define IPC_NAME_PARTS 6
#define IPC_NAME_PART_LEN 48
struct object_name {
	char part[IPC_NAME_PARTS][IPC_NAME_PART_LEN];
	unsigned int depth;
	unsigned int truncated;
};

struct object_stats {
	unsigned long long calls;
	unsigned long long bytes_in;
	unsigned long long bytes_out;
	unsigned long long page_faults; /* faults in the process's mappings of a shared object */
	unsigned long long sync_calls;  /* shared futex calls on an address inside the object */
	/* SCM_RIGHTS (bpf/fd_passing.h): on a socket's object, the descriptors passed through it;
	 * on a passed file's own object (a memfd, a pipe), how many times it was passed */
	unsigned long long fds_sent;
	unsigned long long fds_received;
};

struct proc_info {
	unsigned int ppid;
	unsigned int exited;
	char comm[IPC_COMM_LEN];
};

/* Waits (bpf/waits.h). Per process and mechanism (struct proc_mech_key): how much of the time
 * blocked in epoll_wait, poll, select and their variants went to waiting for a descriptor of
 * this mechanism. A wait that returns k ready descriptors gives each an equal share of its
 * duration (the last share takes the rounding remainder), so the shares add up to it. */
#define IPC_DEFAULT_EPOLL_REGS 16384 /* epoll registrations remembered (epoll_regs, epoll_fds) */
#define IPC_WAIT_MAX_READY 64        /* ready descriptors examined per wait; the rest share nothing */
#define IPC_WAIT_MAX_FDS 1024        /* pollfd entries and select bits scanned per wait */
struct ipc_wait_stats {
	unsigned long long wait_ns;    /* blocked time attributed to this mechanism's ready descriptors */
	unsigned long long ready_fds;  /* ready descriptors of this mechanism the waits returned */
	unsigned long long idle_ns;    /* MECH_NONE's entry: waits that returned nothing ready (timeout, error) */
	unsigned long long timeouts;   /* MECH_NONE's entry: of those, the timeouts (returned 0) */
};

/* An epoll registration (epoll_ctl ADD/MOD), by what the waits return: the user's epoll_data,
 * a number or a pointer (redis stores the fd, libuv and nginx pointers). */
struct epoll_reg_key {
	unsigned int tgid;
	unsigned int epfd;
	unsigned long long data;
};
struct epoll_reg {
	unsigned int fd;
	unsigned int mechanism;
};
/* The same registration by fd, for EPOLL_CTL_DEL (which names the fd, not the data). */
struct epoll_fd_key {
	unsigned int tgid;
	unsigned int epfd;
	unsigned int fd;
	unsigned int pad;
};

/* Passed descriptors (bpf/fd_passing.h): the kinds of file an SCM_RIGHTS message carries,
 * from fd_kinds.def. */
enum ipc_fd_kind {
#define IPC_FD_KIND(id, key) id,
#include "fd_kinds.def"
#undef IPC_FD_KIND
	FD_KIND_COUNT,
};
#define IPC_MAX_PASSED_FDS 253 /* the kernel's SCM_MAX_FD: descriptors in one SCM_RIGHTS message */
/* Per process and the mechanism of the socket they crossed (struct proc_mech_key). */
struct ipc_fd_pass_stats {
	unsigned long long sent;     /* descriptors sent with sendmsg */
	unsigned long long received; /* descriptors received with recvmsg */
	unsigned long long sent_kinds[FD_KIND_COUNT];
	unsigned long long received_kinds[FD_KIND_COUNT];
};

/* What could not be recorded, from drops.def: the index of the `drops` map. */
enum ipc_drop {
#define IPC_DROP(id, key, description) id,
#include "drops.def"
#undef IPC_DROP
	DROP_COUNT,
};

enum ipc_filter_mode {
	FILTER_TARGETS = 0, /* the tgids in the targets map and the children they fork */
	FILTER_ALL = 1,     /* every process but ipctrace itself */
	FILTER_CGROUP = 2,  /* every process in one cgroup (v2 id), but ipctrace itself */
};

/* Issue 18, io_uring: the operations a ring carried, by process, mechanism of their file and
 * opcode (bpf/io_uring.h, bpf/io_uring_ops.def). */
#define IPC_URING_OPS 64 /* opcodes below this are counted; io_uring_ops.def lists them */

enum ipc_uring_bytes {
	URING_BYTES_NONE = 0,
	URING_BYTES_IN,   /* res bytes, user -> kernel (write, send) */
	URING_BYTES_OUT,  /* res bytes, kernel -> user (read, recv) */
	URING_BYTES_ZERO, /* res bytes, moved without a user copy (splice, tee, send_zc) */
};

struct uring_op_key {
	unsigned int tgid;        /* the submitting process */
	unsigned char mechanism;  /* of the operation's file; MECH_IO_URING when none has one */
	unsigned char opcode;
	unsigned short pad;
};

struct uring_op_stats {
	unsigned long long submitted;
	unsigned long long completed;
	unsigned long long errors; /* completions with res < 0 */
	unsigned long long bytes_in;
	unsigned long long bytes_out;
	unsigned long long bytes_zero_copy;
};

#endif /* IPCTRACE_H */
