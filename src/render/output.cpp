#include "render/output.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/number_parse.h"

namespace ipctrace {
namespace {

// Kernel filesystems whose "files" are knobs and views, never a place for a report.
bool is_kernel_filesystem(long type) {
    switch (static_cast<unsigned long>(type)) {
        case 0x9fa0:      // proc
        case 0x62656572:  // sysfs
        case 0x27e0eb:    // cgroup
        case 0x63677270:  // cgroup2
        case 0x64626720:  // debugfs
        case 0x74726163:  // tracefs
        case 0x73636673:  // securityfs
        case 0xcafe4a11:  // bpf
        case 0x62656570:  // configfs
        case 0xde5e81e4:  // efivarfs
            return true;
        default:
            return false;
    }
}

[[noreturn]] void fail(const std::string& path, const std::string& why) { throw std::runtime_error("cannot write " + path + ": " + why); }

constexpr const char* kTempMark = ".ipctrace-";
constexpr const char* kTempSuffix = ".tmp";

std::string temp_prefix(const std::string& base) { return "." + base + kTempMark; }

// Temporaries of NAME left by runs that were killed (their pid is gone): nobody else removes them.
void remove_stale_temps(const std::string& dir, const std::string& base) {
    DIR* d = opendir(dir.c_str());
    if (!d) return;
    const std::string prefix = temp_prefix(base), suffix = kTempSuffix;
    while (const dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const auto pid = parse_whole(std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size()), 1, 1u << 22);
        if (pid && kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH) unlinkat(dirfd(d), name.c_str(), 0);
    }
    closedir(d);
}

// One write(2) per call when the kernel takes it all (it does for regular files and pipes up
// to PIPE_BUF); the loop only finishes what a full disk or a signal cut short.
void write_all(int fd, const std::string& text, const std::string& where) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(where, std::strerror(errno));
        done += static_cast<size_t>(n);
    }
}

}  // namespace

Output::Output(const std::string& path, FILE* standard, Kind kind) : path_(path), kind_(kind) {
    if (path.empty() || path == "-") {
        standard_ = standard;
        fd_ = fileno(standard);
        where_ = standard == stderr ? "stderr" : "stdout";
        return;
    }
    where_ = path;
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) fail(path, "it is a symbolic link (refused: give the file itself, or - for stdout)");
        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            open_in_place(false);
            return;
        }
        if (S_ISDIR(st.st_mode)) fail(path, std::strerror(EISDIR));  // what open() would have said
        if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
        mode_ = st.st_mode & 07777;
        keep_mode_ = true;
        uid_ = st.st_uid;
        gid_ = st.st_gid;
    } else if (errno != ENOENT) {
        fail(path, std::strerror(errno));
    }
    if (kind == Kind::Lines) {
        open_in_place(true);
        return;
    }

    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    struct statfs fs {};
    if (statfs(dir.c_str(), &fs) != 0) fail(path, std::strerror(errno));
    if (is_kernel_filesystem(fs.f_type)) fail(path, "a kernel file (/proc, /sys, …), not a place for a report");
    remove_stale_temps(dir, base);
    temp_ = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + temp_prefix(base) +
            std::to_string(getpid()) + kTempSuffix;
    replace_file();  // creates the temporary: a directory we cannot write fails now, not after the trace
}

// Creates (or re-creates) the temporary file, empty. Fails like opening the target would.
void Output::replace_file() {
    constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    fd_ = open(temp_.c_str(), kFlags, 0666);
    if (fd_ < 0 && errno == EEXIST) {  // ours from an earlier process with this pid
        unlink(temp_.c_str());
        fd_ = open(temp_.c_str(), kFlags, 0666);
    }
    if (fd_ < 0) fail(path_, std::strerror(errno));
    own_fd_ = true;
    temp_open_ = true;
    if (keep_mode_) {
        // The new file replaces the old one: same mode and, where we may, same owner.
        if (fchown(fd_, uid_, gid_) != 0) { /* not ours to give away: keep ours */ }
        (void)fchmod(fd_, mode_);
    }
}

// FIFOs and devices (nothing to replace), and Lines: written where they are.
void Output::open_in_place(bool lines) {
    // O_NOFOLLOW: a symlink planted since the lstat is refused. O_NONBLOCK: a FIFO nobody
    // reads fails (ENXIO) instead of hanging. No O_TRUNC: see truncate_.
    constexpr int kFlags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    int fd = lines ? open(path_.c_str(), kFlags | O_CREAT | O_EXCL, 0666) : -1;
    if (fd >= 0) created_ = true;
    else if (!lines || errno == EEXIST) fd = open(path_.c_str(), kFlags);
    if (fd < 0) {
        const int err = errno;
        if (err == ELOOP) fail(path_, "it is a symbolic link (refused: give the file itself, or - for stdout)");
        fail(path_, std::strerror(err));
    }
    struct stat st {};
    struct statfs fs {};
    std::string refused;
    if (fstat(fd, &st) != 0 || fstatfs(fd, &fs) != 0) refused = std::strerror(errno);
    else if (S_ISREG(st.st_mode) && is_kernel_filesystem(fs.f_type)) refused = "a kernel file (/proc, /sys, …), not a place for a report";
    else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) refused = "not a regular file";
    else if (const int fl = fcntl(fd, F_GETFL); fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        refused = std::strerror(errno);  // blocking writes from now on
    if (!refused.empty()) {
        if (created_) unlink(path_.c_str());
        close(fd);
        fail(path_, refused);
    }
    truncate_ = S_ISREG(st.st_mode);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    fd_ = fd;
    own_fd_ = true;
}

Output::~Output() {
    if (temp_open_) unlink(temp_.c_str());
    if (own_fd_ && fd_ >= 0) close(fd_);
    if (!created_ || written_) return;
    // Created for a report that never came: remove it, if the name is still our file.
    struct stat st {};
    if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
}

void Output::write(const std::string& text) {
    written_ = true;
    if (standard_) std::fflush(standard_);  // what stdio holds goes first; the report in whole writes
    if (temp_.empty()) {  // stdout, a FIFO, a device, or Lines
        if (truncate_) {
            truncate_ = false;
            if (ftruncate(fd_, 0) != 0) fail(where_, std::strerror(errno));
        }
        write_all(fd_, text, where_);
        return;
    }
    document_ += text;
    if (!temp_open_) replace_file();
    write_all(fd_, document_, where_);
    // On disk before it takes the name: after a crash the name holds the old or the new file.
    if (fdatasync(fd_) != 0) fail(where_, std::strerror(errno));
    if (rename(temp_.c_str(), path_.c_str()) != 0) fail(where_, std::strerror(errno));
    temp_open_ = false;
    close(fd_);
    fd_ = -1;
    own_fd_ = false;
}

}  // namespace ipctrace
