// file: the oldest IPC. Role 0 writes count messages into a regular file in the run's
// private directory, then tells role 1 through the control block; role 1 reads the file
// back and verifies every byte. Nothing is fsync()ed: both go through the page cache.
#include <fcntl.h>
#include <sys/statvfs.h>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

constexpr char kFileLeaf[] = "/data";

void file_cleanup(Control& ctl) {
    if (ctl.path[0] != '\0') ::unlink(ctl.path);
}

void file_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    unsigned char* buf = scratch_bytes();
    if (role == 0) {
        const uint64_t t0 = now_ns();
        if (!concat(ctl.path, ctl.dir, kFileLeaf)) throw_error("file: path in %s too long", ctl.dir);
        Fd fd = open_counted(out, ctl.path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::atomic_ref<uint64_t>(out.start_ns).store(t0, std::memory_order_relaxed);
        for (uint64_t m = 0; m < p.count; ++m) {
            fill(buf, p.size, m);
            write_all(out, fd.get(), buf, p.size, m);  // short only when the disk is full or a signal hits
            publish_progress(out, m + 1, (m + 1) * p.size);
        }
        fd.reset();  // the reader sees the data either way; closing first keeps the order plain
        out.elapsed_ns = now_ns() - t0;
        ctl.published.store(1, std::memory_order_release);
    } else {
        spin_until_at_least(ctl.published, 1);
        const uint64_t start = now_ns();  // not the time spent waiting for the writer
        std::atomic_ref<uint64_t>(out.start_ns).store(start, std::memory_order_relaxed);
        Fd fd = open_counted(out, ctl.path, O_RDONLY, 0600);
        for (uint64_t m = 0; m < p.count; ++m) {
            read_exact(out, fd.get(), buf, p.size, m);
            verify(buf, p.size, m, out);
            publish_progress(out, m + 1, (m + 1) * p.size);
        }
        out.elapsed_ns = now_ns() - start;
    }
}

// The whole stream sits on disk at once: make sure it fits where the harness puts it.
Status file_check(const Params& p) {
    uint64_t total = 0;
    if (__builtin_mul_overflow(p.count, p.size, &total))
        return unexpected("file: --count x --size overflows 64 bits");
    struct statvfs fs {};
    if (statvfs("/tmp", &fs) != 0) return {};
    const uint64_t avail = uint64_t(fs.f_bavail) * fs.f_frsize;
    if (total <= avail) return {};
    return unexpected("file: --count x --size = " + human_size(total) + " does not fit the " +
                      human_size(avail) + " free in /tmp");
}

}  // namespace

const Workload& workload_file() {
    static const Workload w{
        .name = "file",
        .description = "regular file in a private directory: role 0 writes it all, then role 1 reads it",
        .mechanisms = {"file"},
        .default_count = 10000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream},
        .payload = true,
        .role = file_role,
        .cleanup = file_cleanup,
        .check = file_check,
    };
    return w;
}

}  // namespace ipctrace::workloads
