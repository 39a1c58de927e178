#include "render/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

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

}  // namespace

void Output::Closer::operator()(FILE* f) const {
    if (f != stdout && f != stderr) std::fclose(f);
}

Output::Output(const std::string& path, FILE* standard) : path_(path) {
    if (path.empty() || path == "-") {
        file_.reset(standard);
        return;
    }
    // O_NOFOLLOW: a symlink planted at the path is refused, not followed. O_NONBLOCK: a FIFO
    // nobody reads fails (ENXIO) instead of hanging. No O_TRUNC: see truncate_.
    constexpr int kFlags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    int fd = open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
        created_ = true;
    } else if (errno == EEXIST) {
        fd = open(path.c_str(), kFlags);
    }
    if (fd < 0) {
        const int err = errno;
        struct stat link {};
        if (err == ELOOP && lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
            fail(path, "it is a symbolic link (refused: give the file itself, or - for stdout)");
        fail(path, std::strerror(err));
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
        if (created_) unlink(path.c_str());
        close(fd);
        fail(path, refused);
    }
    truncate_ = S_ISREG(st.st_mode);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    file_.reset(fdopen(fd, "w"));
    if (!file_) {
        const int err = errno;
        if (created_) unlink(path.c_str());
        close(fd);
        fail(path, std::strerror(err));
    }
}

Output::~Output() {
    if (!created_ || written_ || !file_) return;
    // Created for a report that never came: remove it, if the name is still our file.
    struct stat st {};
    if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
}

void Output::write(const std::string& text) {
    const std::string where = path_.empty() || path_ == "-" ? std::string(file_.get() == stderr ? "stderr" : "stdout") : path_;
    if (truncate_) {
        truncate_ = false;
        if (ftruncate(fileno(file_.get()), 0) != 0) fail(where, std::strerror(errno));
    }
    written_ = true;
    if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size() || std::fflush(file_.get()) != 0)
        fail(where, std::strerror(errno));
}

}  // namespace ipctrace
