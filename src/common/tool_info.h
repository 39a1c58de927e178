// Which ipctrace ran, built against what, on which kernel: for --version and each JSON
// report's `tool`, so that a bug report names all three.
#pragma once

#include <string>

namespace ipctrace {

struct ToolInfo {
    std::string version;  // the project version, 0.1.0
    std::string commit;   // the git commit built, "-dirty" if the tree had changes; "unknown" outside git
    std::string libbpf;   // the libbpf version the binary was built against
    std::string kernel;   // the running kernel's release (uname -r)
};

const ToolInfo& tool_info();

// `ipctrace --version`: the first line `ipctrace VERSION`, then commit, libbpf and kernel.
std::string version_text();

}  // namespace ipctrace
