// Where a report goes: stdout, or the file of -o, opened before any work so a bad path
// fails fast. The file is never written through a symlink; it must be a regular file (not on
// /proc, /sys or another kernel filesystem), a FIFO or a device.
//
// A regular file is replaced atomically: each write() puts the whole document so far into a
// temporary file beside it (".NAME.ipctrace-PID.tmp", created with the user's umask, or with
// the mode of the file it replaces) and rename()s it over NAME. A run killed at any moment,
// even by SIGKILL, leaves the previous file or the complete new one, never an empty or a
// half-written one. A temporary left by a killed run is removed by the next run writing the
// same NAME; this run's own is removed when no report came.
//
// Lines (-i, NDJSON): records are appended to the file itself as they come, so a reader can
// follow it; each record goes out in one write(2), so a reader never sees half of one.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>

namespace ipctrace {

class Output {
public:
    enum class Kind { Document, Lines };
    // An empty path or "-" is `standard` (stdout, or stderr where the traced command owns
    // stdout). Throws std::runtime_error("cannot write FILE: reason").
    explicit Output(const std::string& path, FILE* standard = stdout, Kind kind = Kind::Document);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;
    void write(const std::string& text);

private:
    void open_in_place(bool lines);
    void replace_file();
    std::string path_, where_;
    Kind kind_;
    FILE* standard_ = nullptr;  // stdout or stderr, else nullptr
    int fd_ = -1;
    bool own_fd_ = false;
    std::string temp_;        // Document to a regular file: the temporary file, "" otherwise
    bool temp_open_ = false;  // temp_ exists on disk (created, not yet renamed)
    std::string document_;    // everything written so far (each write replaces the file with it)
    mode_t mode_ = 0;         // the replaced file's mode, when there was one
    bool keep_mode_ = false;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    bool truncate_ = false;  // Lines to a regular file: empty it at the first write
    bool created_ = false;   // Lines: this process created the file
    bool written_ = false;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace ipctrace
