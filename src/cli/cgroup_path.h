// `trace --cgroup PATH`: from a path as users type it to the cgroup v2 id the probes compare
// with bpf_get_current_cgroup_id(): the inode number of the cgroup's directory on cgroup2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include "common/expected.h"

namespace ipctrace {

struct CgroupTarget {
    std::string path;  // absolute, as resolved
    uint64_t id = 0;
};

// Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo text: /sys/fs/cgroup on
// a unified system, /sys/fs/cgroup/unified on a hybrid one; nullopt when it is not mounted.
std::optional<std::string> cgroup2_mount(std::string_view mountinfo);

// An absolute path must be a directory on cgroup2; a relative one is taken relative to the
// cgroup2 mount. A cgroup v1 path gets a clear error (the probes only know v2 ids).
Expected<CgroupTarget> resolve_cgroup(const std::string& arg);

}  // namespace ipctrace
