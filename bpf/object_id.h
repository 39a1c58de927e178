/* How an IPC object is numbered (object_key.object): the same number for every process that
 * shares the object. The BPF program encodes (bpf/objects.h), the communication map decodes
 * (src/model/comm_map.cpp); both through these helpers. Plain C, for both compilers.
 *
 *   pipe, FIFO, mqueue, file              the inode number
 *   POSIX shm, shared mapping of a file    ipc_mapping_id(): device and inode
 *   or of anonymous memory
 *   SysV shm, sem, msg                     the id (shmget's return, or argument 0; a segment's
 *                                          shmem inode is numbered with its id, so its
 *                                          mappings carry the same number)
 *   signal                                 the pid it is sent to
 *   unix socket                            ipc_unix_id(): both sockets of a connected pair
 *   TCP, UDP                               ipc_inet_id(): both ends of a connection
 *   eventfd                                the open file's address (no number of its own) */
#ifndef IPCTRACE_OBJECT_ID_H
#define IPCTRACE_OBJECT_ID_H

#define IPC_ID_INLINE static inline __attribute__((always_inline))

IPC_ID_INLINE unsigned long long ipc_id_min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
IPC_ID_INLINE unsigned long long ipc_id_max(unsigned long long a, unsigned long long b) { return a < b ? b : a; }

/* A unix socket: the inode numbers of both sockets of a connected pair, lower one in the high
 * half (sockfs numbers them with 32-bit get_next_ino(); the addresses of socks are reused as
 * soon as a connection is freed, which merged unrelated short connections). Only its own once
 * the peer has closed (peer_ino 0): user space finds the pair holding it. */
IPC_ID_INLINE unsigned long long ipc_unix_id(unsigned long long ino, unsigned long long peer_ino)
{
	peer_ino &= 0xffffffff;
	ino &= 0xffffffff;
	return peer_ino ? ipc_id_min(ino, peer_ino) << 32 | ipc_id_max(ino, peer_ino) : ino;
}

IPC_ID_INLINE int ipc_unix_id_is_pair(unsigned long long id) { return (id >> 32) != 0; }
/* The pair's two inode numbers, the lower first. */
IPC_ID_INLINE unsigned long long ipc_unix_id_first(unsigned long long id) { return id >> 32; }
IPC_ID_INLINE unsigned long long ipc_unix_id_second(unsigned long long id) { return id & 0xffffffff; }

/* An inet socket: a connection by its port pair (lower in the top 16 bits) and the XOR of its
 * addresses, so both ends get one number; a socket with no remote port is its inode. */
IPC_ID_INLINE unsigned long long ipc_inet_id(unsigned long long ino, unsigned long long local_port,
					     unsigned long long remote_port, unsigned long long addrs)
{
	unsigned long long lo = ipc_id_min(local_port, remote_port), hi = ipc_id_max(local_port, remote_port);

	if (!remote_port)
		return ino; /* not connected: the socket itself */
	return lo << 48 | hi << 32 | (addrs & 0xffffffff);
}

IPC_ID_INLINE int ipc_inet_id_is_connection(unsigned long long id) { return (id >> 32) != 0; }
/* The connection's two ports, the lower first. */
IPC_ID_INLINE unsigned long long ipc_inet_id_low_port(unsigned long long id) { return id >> 48; }
IPC_ID_INLINE unsigned long long ipc_inet_id_high_port(unsigned long long id) { return (id >> 32) & 0xffff; }

/* An eventfd: the address of its struct file. Shown as 16 bits above the allocation's alignment. */
IPC_ID_INLINE unsigned long long ipc_eventfd_id(const void *file) { return (unsigned long long)(unsigned long)file; }
IPC_ID_INLINE unsigned long long ipc_eventfd_id_tag(unsigned long long id) { return (id >> 6) & 0xffff; }

/* A shared mapping's backing object (a /dev/shm or memfd file, a regular file, the shmem
 * inode behind MAP_SHARED|MAP_ANONYMOUS): its inode in the low 40 bits, its device folded into
 * the high 24, so two tmpfs instances' equal inode numbers stay apart. Every inode number a
 * tmpfs or ext4 hands out fits 40 bits, so the inode is decoded exactly for joins. */
#define IPC_MAPPING_INO_BITS 40
IPC_ID_INLINE unsigned long long ipc_mapping_id(unsigned long long dev, unsigned long long ino)
{
	unsigned long long tag = (dev ^ (dev >> 24)) & 0xffffff;

	return tag << IPC_MAPPING_INO_BITS | (ino & ((1ULL << IPC_MAPPING_INO_BITS) - 1));
}
IPC_ID_INLINE unsigned long long ipc_mapping_id_inode(unsigned long long id) { return id & ((1ULL << IPC_MAPPING_INO_BITS) - 1); }
IPC_ID_INLINE unsigned long long ipc_mapping_id_dev_tag(unsigned long long id) { return id >> IPC_MAPPING_INO_BITS; }

#endif /* IPCTRACE_OBJECT_ID_H */
