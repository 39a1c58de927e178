// posix-shm (shm_open'd object in /dev/shm) and mmap (regular file in the run directory):
// both roles map the same pages MAP_SHARED and pass messages through the ring in place.
#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>

#include "catalog.h"
#include "shm_ring.h"

namespace ipctrace::workloads {

namespace {

enum class Backing { PosixShm, File };

constexpr char kShmDir[] = "/dev/shm";  // where glibc's shm_open puts the object
using PathBuf = char[sizeof kShmDir + sizeof Control::path];  // fits either kind of path

// "/dev/shm" + ctl.name without snprintf: also used from the signal handler.
void shm_path(const Control& ctl, PathBuf& out) {
    std::memcpy(out, kShmDir, sizeof kShmDir - 1);
    std::memcpy(out + sizeof kShmDir - 1, ctl.name, sizeof ctl.name);
    out[sizeof kShmDir - 1 + sizeof ctl.name - 1] = '\0';
}

// The file's path as the roles open it; shm_open(name) is openat("/dev/shm/<name>").
void object_path(Control& ctl, Backing b, PathBuf& out) {
    if (b == Backing::PosixShm) {
        shm_path(ctl, out);
    } else {
        std::memcpy(out, ctl.path, sizeof ctl.path);
        out[sizeof ctl.path - 1] = '\0';
    }
}

// Raw syscalls only: runs in the parent and in a role's signal handler.
void shm_cleanup(Control& ctl) {
    if (ctl.name[0] == '\0') return;
    PathBuf path;
    shm_path(ctl, path);
    ::syscall(SYS_unlink, path);
    ctl.name[0] = '\0';
}

void file_cleanup(Control& ctl) {
    if (ctl.path[0] == '\0') return;
    ::syscall(SYS_unlink, ctl.path);
    ctl.path[0] = '\0';
}

unsigned char* map_shared(RoleResult& out, long fd, uint64_t bytes) {
    const long addr = counted(out, SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == -1) throw_errno("mmap");
    return reinterpret_cast<unsigned char*>(addr);
}

// Owner: names the object in ctl before creating it, so that cleanup can always find it.
long create_object(Control& ctl, RoleResult& out, Backing b, uint64_t bytes) {
    if (b == Backing::PosixShm)
        name_ipc_objects(ctl);
    else if (!concat(ctl.path, ctl.dir, "/ring"))
        throw_error("run directory path too long: %s", ctl.dir);
    PathBuf path;
    object_path(ctl, b, path);
    const long fd = counted(out, SYS_openat, AT_FDCWD, path,
                            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno(b == Backing::PosixShm ? "shm_open" : "open ring file");
    if (counted(out, SYS_ftruncate, fd, bytes) < 0) throw_errno("ftruncate");
    return fd;
}

void map_role(Control& ctl, int role, RoleResult& out, Backing b) {
    const Params& p = ctl.params;
    const uint64_t bytes = ring_bytes(p);
    const auto kind = p.sync == Sync::Sem     ? RingSync::Kind::PosixSem
                      : p.sync == Sync::Spin  ? RingSync::Kind::Spin
                      : p.sync == Sync::Futex ? RingSync::Kind::Futex
                                              : RingSync::Kind::Ring;
    PathBuf path;
    if (role == 0) {
        const long fd = create_object(ctl, out, b, bytes);
        unsigned char* base = map_shared(out, fd, bytes);
        if (counted(out, SYS_close, fd) < 0) throw_errno("close");  // the mapping keeps it
        RingSync sync(kind, reinterpret_cast<RingHeader*>(base), -1, out);
        sync.init(p);
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        if (b == Backing::PosixShm) {  // both mapped: the name is no longer needed
            shm_path(ctl, path);
            if (counted(out, SYS_unlink, path) < 0) throw_errno("shm_unlink");
            ctl.name[0] = '\0';
        }
        run_ring(p, 0, base, sync, out);
        if (counted(out, SYS_munmap, base, bytes) < 0) throw_errno("munmap");
        if (b == Backing::File) {
            wait_peer_done(ctl);
            if (counted(out, SYS_unlink, ctl.path) < 0) throw_errno("unlink ring file");
            ctl.path[0] = '\0';
        }
    } else {
        spin_until_at_least(ctl.published, 1);
        object_path(ctl, b, path);
        const long fd = counted(out, SYS_openat, AT_FDCWD, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0) throw_errno(b == Backing::PosixShm ? "shm_open" : "open ring file");
        unsigned char* base = map_shared(out, fd, bytes);
        if (counted(out, SYS_close, fd) < 0) throw_errno("close");
        ctl.ready.store(1, std::memory_order_release);
        RingSync sync(kind, reinterpret_cast<RingHeader*>(base), -1, out);
        run_ring(p, 1, base, sync, out);
        if (counted(out, SYS_munmap, base, bytes) < 0) throw_errno("munmap");
        peer_done(ctl);
    }
}

void posix_shm_role(Control& ctl, int role, RoleResult& out) { map_role(ctl, role, out, Backing::PosixShm); }
void mmap_role(Control& ctl, int role, RoleResult& out) { map_role(ctl, role, out, Backing::File); }

}  // namespace

const Workload& workload_posix_shm() {
    static const Workload w{
        .name = "posix-shm",
        .description = "POSIX shared memory (shm_open + mmap) ring; default sync ring (SPSC, futex park only when the peer sleeps)",
        .mechanisms = {"posix_shm", "futex"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {Sync::Ring, Sync::Futex, Sync::Sem, Sync::Spin},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = posix_shm_role,
        .cleanup = shm_cleanup,
        .scratch = false,  // messages are written in place in the mapping
    };
    return w;
}

const Workload& workload_mmap() {
    static const Workload w{
        .name = "mmap",
        .description = "MAP_SHARED file mapping ring; default sync ring (SPSC, futex park only when the peer sleeps)",
        .mechanisms = {"mmap_file", "futex"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {Sync::Ring, Sync::Futex, Sync::Sem, Sync::Spin},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = mmap_role,
        .cleanup = file_cleanup,
        .scratch = false,
    };
    return w;
}

}  // namespace ipctrace::workloads
