/* The latency histogram both sides share: log-linear buckets, 8 per power of two, so a
 * bucket is at most 1/8 (12.5 %) of its lower bound wide and its midpoint is within 6.25 % of
 * any value in it. Values 0-7 ns have a bucket each; from 8 ns, the bucket of v is its power
 * of two k = floor(log2 v) and the 3 bits below the leading one. The last bucket also holds
 * everything from its lower bound up (past 2^40 ns, 18 minutes). Plain C, part of the contract
 * (ipctrace.h includes it): ipctrace.bpf.c counts with ipc_hist_slot, the collector reads the
 * bounds back with ipc_hist_slot_lo. */
#ifndef IPCTRACE_HISTOGRAM_H
#define IPCTRACE_HISTOGRAM_H

#define IPC_HIST_SUB_BITS 3                    /* 8 sub-buckets per power of two */
#define IPC_HIST_SUB (1 << IPC_HIST_SUB_BITS)
#define IPC_HIST_LOG2_MAX 40                   /* powers of two up to 2^40 ns */
#define IPC_HIST_SLOTS (IPC_HIST_SUB + IPC_HIST_SUB * (IPC_HIST_LOG2_MAX - IPC_HIST_SUB_BITS)) /* 304 */
#define IPC_HIST_LOG2_SLOTS IPC_HIST_LOG2_MAX  /* the log2 view (JSON latency_log2_ns, metrics) */

/* The lower bound in ns of a bucket; a bucket's upper bound is the next one's lower bound. */
static inline unsigned long long ipc_hist_slot_lo(unsigned int slot)
{
	unsigned int k, sub;

	if (slot < IPC_HIST_SUB)
		return slot;
	k = (slot - IPC_HIST_SUB) / IPC_HIST_SUB + IPC_HIST_SUB_BITS;
	sub = (slot - IPC_HIST_SUB) % IPC_HIST_SUB;
	return (1ULL << k) + ((unsigned long long)sub << (k - IPC_HIST_SUB_BITS));
}

/* The log2 slot (k: [2^k, 2^(k+1)), 0 also holding 0) a bucket lies in: log2 is coarser. */
static inline unsigned int ipc_hist_log2_slot(unsigned int slot)
{
	if (slot < IPC_HIST_SUB)
		return slot < 2 ? 0 : slot < 4 ? 1 : 2;
	return (slot - IPC_HIST_SUB) / IPC_HIST_SUB + IPC_HIST_SUB_BITS;
}

/* The bucket of a duration (the collector's and the tests' way; ipctrace.bpf.c's hist_slot is
 * the same mapping, branchless). */
static inline unsigned int ipc_hist_slot_of(unsigned long long ns)
{
	unsigned int k = 0;

	if (ns < IPC_HIST_SUB)
		return (unsigned int)ns;
	while (k < 63 && (ns >> (k + 1)) != 0)
		k++;
	if (k >= IPC_HIST_LOG2_MAX)
		return IPC_HIST_SLOTS - 1;
	return IPC_HIST_SUB + (k - IPC_HIST_SUB_BITS) * IPC_HIST_SUB +
	       (unsigned int)((ns >> (k - IPC_HIST_SUB_BITS)) & (IPC_HIST_SUB - 1));
}

#endif /* IPCTRACE_HISTOGRAM_H */
