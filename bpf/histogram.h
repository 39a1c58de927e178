/* The latency histogram both sides share. Log-linear from 8 ns to 2^32 ns (4.3 s): 8 buckets
 * per power of two, so a bucket is at most 1/8 (12.5 %) of its lower bound wide and its
 * midpoint is within 6.25 % of any value in it. Below 8 ns one bucket, [0, 8). From 2^32 ns
 * one bucket per power of two, the last, from 2^39 ns (9 minutes), also holding everything
 * longer. 241 32-bit counters: with the other fields a syscall_stats value stays under 1 KiB,
 * because the BPF allocator keeps fewer spare elements of larger values, and a fork storm's
 * burst of new keys then fails to allocate (each key is allocated on its first event).
 * Plain C, part of the contract (ipctrace.h includes it): ipctrace.bpf.c counts with its
 * hist_slot, the collector reads the bounds back with ipc_hist_slot_lo. */
#ifndef IPCTRACE_HISTOGRAM_H
#define IPCTRACE_HISTOGRAM_H

#define IPC_HIST_SUB_BITS 3                    /* 8 sub-buckets per power of two */
#define IPC_HIST_SUB (1 << IPC_HIST_SUB_BITS)
#define IPC_HIST_LIN_MAX 32                    /* log-linear below 2^32 ns */
#define IPC_HIST_LOG2_MAX 39                   /* log2 buckets from 2^32, the last from 2^39 */
#define IPC_HIST_LIN_SLOTS (1 + IPC_HIST_SUB * (IPC_HIST_LIN_MAX - IPC_HIST_SUB_BITS)) /* 233 */
#define IPC_HIST_SLOTS (IPC_HIST_LIN_SLOTS + IPC_HIST_LOG2_MAX - IPC_HIST_LIN_MAX + 1) /* 241 */
#define IPC_HIST_LOG2_SLOTS 40                 /* the log2 view (JSON latency_log2_ns, metrics) */

/* The lower bound in ns of a bucket; a bucket's upper bound is the next one's lower bound
 * (for the last, open-ended one: 2^40). */
static inline unsigned long long ipc_hist_slot_lo(unsigned int slot)
{
	unsigned int k, sub;

	if (slot == 0)
		return 0;
	if (slot < IPC_HIST_LIN_SLOTS) {
		k = (slot - 1) / IPC_HIST_SUB + IPC_HIST_SUB_BITS;
		sub = (slot - 1) % IPC_HIST_SUB;
		return (1ULL << k) + ((unsigned long long)sub << (k - IPC_HIST_SUB_BITS));
	}
	return 1ULL << (IPC_HIST_LIN_MAX + (slot - IPC_HIST_LIN_SLOTS));
}

/* The log2 slot (k: [2^k, 2^(k+1))) a bucket lies in; [0, 8) counts in slot 0. */
static inline unsigned int ipc_hist_log2_slot(unsigned int slot)
{
	if (slot == 0)
		return 0;
	if (slot < IPC_HIST_LIN_SLOTS)
		return (slot - 1) / IPC_HIST_SUB + IPC_HIST_SUB_BITS;
	return IPC_HIST_LIN_MAX + (slot - IPC_HIST_LIN_SLOTS);
}

/* The bucket of a power of two k = floor(log2 ns) >= 3 and ns (ipctrace.bpf.c finds k
 * branchless; ipc_hist_slot_of by a loop). */
static inline unsigned int ipc_hist_slot_k(unsigned int k, unsigned long long ns)
{
	if (k < IPC_HIST_LIN_MAX)
		return 1 + (k - IPC_HIST_SUB_BITS) * IPC_HIST_SUB +
		       (unsigned int)((ns >> (k - IPC_HIST_SUB_BITS)) & (IPC_HIST_SUB - 1));
	if (k < IPC_HIST_LOG2_MAX)
		return IPC_HIST_LIN_SLOTS + (k - IPC_HIST_LIN_MAX);
	return IPC_HIST_SLOTS - 1;
}

/* The bucket of a duration. */
static inline unsigned int ipc_hist_slot_of(unsigned long long ns)
{
	unsigned int k = 0;

	if (ns < IPC_HIST_SUB)
		return 0;
	while (k < 63 && (ns >> (k + 1)) != 0)
		k++;
	return ipc_hist_slot_k(k, ns);
}

#endif /* IPCTRACE_HISTOGRAM_H */
