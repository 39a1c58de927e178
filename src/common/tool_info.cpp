#include "common/tool_info.h"

#include <sys/utsname.h>

#include "build_info.h"

namespace ipctrace {

const ToolInfo& tool_info() {
    static const ToolInfo info = [] {
        ToolInfo t{IPCTRACE_VERSION, IPCTRACE_COMMIT, IPCTRACE_LIBBPF_VERSION, "unknown"};
        struct utsname u {};
        if (uname(&u) == 0) t.kernel = u.release;
        return t;
    }();
    return info;
}

std::string version_text() {
    const ToolInfo& t = tool_info();
    return "ipctrace " + t.version + "\ncommit " + t.commit + "\nlibbpf " + t.libbpf + " (built against)\nkernel " + t.kernel;
}

}  // namespace ipctrace
