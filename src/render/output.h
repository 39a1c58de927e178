// Where a report goes: stdout, or the file of -o, opened before any work so a bad path
// fails fast. The file is created with the user's umask and never through a symlink; it must
// be a regular file (not on /proc, /sys or another kernel filesystem), a FIFO or a device.
// An existing file keeps its contents until the first write, and a file this run created
// is removed again when nothing was written to it (the run failed before its report).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>

namespace ipctrace {

class Output {
public:
    // An empty path or "-" is `standard` (stdout, or stderr where the traced command owns
    // stdout). Throws std::runtime_error("cannot write FILE: reason").
    explicit Output(const std::string& path, FILE* standard = stdout);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;
    void write(const std::string& text);

private:
    struct Closer {
        void operator()(FILE* f) const;
    };
    std::unique_ptr<FILE, Closer> file_;
    std::string path_;
    bool created_ = false;   // this process created the file (O_EXCL)
    bool truncate_ = false;  // a regular file: empty it at the first write
    bool written_ = false;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace ipctrace
