// Where a report goes: stdout, or the file of -o, opened before any work so a bad path
// fails fast. The file is created with the user's umask and never through a symlink.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace ipctrace {

class Output {
public:
    // Throws std::runtime_error("cannot write FILE: reason").
    explicit Output(const std::string& path);
    void write(const std::string& text);

private:
    struct Closer {
        void operator()(FILE* f) const;
    };
    std::unique_ptr<FILE, Closer> file_;
    std::string path_;
};

}  // namespace ipctrace
