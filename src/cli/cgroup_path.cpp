#include "cli/cgroup_path.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ipctrace {
namespace {

constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC
constexpr long kCgroupMagic = 0x27e0eb;     // CGROUP_SUPER_MAGIC (v1)

}  // namespace

std::optional<std::string> cgroup2_mount(std::string_view mountinfo) {
    // "36 25 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw": field 5 is the mount
    // point, the first field after " - " the filesystem type.
    std::istringstream in{std::string(mountinfo)};
    for (std::string line; std::getline(in, line);) {
        const size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream fs(line.substr(dash + 3));
        std::string type;
        fs >> type;
        if (type != "cgroup2") continue;
        std::istringstream fields(line.substr(0, dash));
        std::string field, mount_point;
        for (int i = 0; i < 5 && fields >> field; ++i) mount_point = field;
        if (!mount_point.empty()) return mount_point;
    }
    return std::nullopt;
}

Expected<CgroupTarget> resolve_cgroup(const std::string& arg) {
    if (arg.empty()) return unexpected(std::string("--cgroup needs a cgroup directory, like /sys/fs/cgroup/system.slice"));
    std::string path = arg;
    if (arg[0] != '/') {
        std::ifstream in("/proc/self/mountinfo");
        std::ostringstream text;
        text << in.rdbuf();
        const auto root = cgroup2_mount(text.str());
        if (!root) return unexpected(std::string("--cgroup needs cgroup v2, and no cgroup2 filesystem is mounted"));
        path = *root + "/" + arg;
    }
    struct statfs fs {};
    if (statfs(path.c_str(), &fs) != 0) return unexpected("--cgroup " + path + ": " + std::strerror(errno));
    if (fs.f_type == kCgroupMagic)
        return unexpected("--cgroup " + path + " is a cgroup v1 hierarchy; ipctrace follows cgroup v2 ids only (use the cgroup2 mount, "
                          "e.g. /sys/fs/cgroup/unified/… on a hybrid system)");
    if (fs.f_type != kCgroup2Magic) return unexpected("--cgroup " + path + " is not on a cgroup v2 filesystem");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return unexpected("--cgroup " + path + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return unexpected("--cgroup " + path + " is not a cgroup directory");
    // On cgroup2 (kernfs, 64-bit) the directory's inode number is the cgroup id the kernel
    // reports to BPF.
    return CgroupTarget{path, static_cast<uint64_t>(st.st_ino)};
}

}  // namespace ipctrace
