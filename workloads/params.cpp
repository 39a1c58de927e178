// Params: names of the --sync/--mode values and resolution of defaults and limits.
#include <algorithm>

#include "common.h"

namespace ipctrace::workloads {

namespace {
constexpr uint64_t kMaxSize = uint64_t{1} << 30;

// "sem, futex, spin" for the "(accepts: …)" part of an error.
template <class T>
std::string join(const std::vector<T>& values) {
    std::string out;
    for (const auto& v : values) {
        if (!out.empty()) out += ", ";
        out += to_string(v);
    }
    return out;
}

// Picks the workload's default or checks the given value is one it accepts.
template <class T>
Status pick(const Workload& w, const char* flag, const std::vector<T>& accepted, T& value) {
    if (value == T::Default) {
        if (!accepted.empty()) value = accepted.front();
        return {};  // no choices: stays Default, printed as "none"
    }
    if (std::find(accepted.begin(), accepted.end(), value) != accepted.end()) return {};
    std::string msg = "workload '" + std::string(w.name) + "' does not take " + flag + " " +
                      std::string(to_string(value));
    msg += accepted.empty() ? std::string(" (it has no ") + flag + " choices)"
                            : " (accepts: " + join(accepted) + ")";
    return unexpected(msg);
}
}  // namespace

std::string_view to_string(Sync s) {
    switch (s) {
        case Sync::Ring: return "ring";
        case Sync::Sem: return "sem";
        case Sync::Futex: return "futex";
        case Sync::Spin: return "spin";
        case Sync::Default: break;
    }
    return "none";
}

std::string_view to_string(Mode m) {
    switch (m) {
        case Mode::Stream: return "stream";
        case Mode::PingPong: return "pingpong";
        case Mode::Lossy: return "lossy";
        case Mode::Default: break;
    }
    return "none";
}

const std::vector<Sync>& sync_values() {
    static const std::vector<Sync> v{Sync::Ring, Sync::Sem, Sync::Futex, Sync::Spin};
    return v;
}

const std::vector<Mode>& mode_values() {
    static const std::vector<Mode> v{Mode::Stream, Mode::PingPong, Mode::Lossy};
    return v;
}

std::optional<Sync> sync_from_string(std::string_view text) {
    for (Sync v : sync_values())
        if (to_string(v) == text) return v;
    return std::nullopt;
}

std::optional<Mode> mode_from_string(std::string_view text) {
    for (Mode v : mode_values())
        if (to_string(v) == text) return v;
    return std::nullopt;
}

Status resolve(const Workload& w, Params& p) {
    if (p.count == 0) p.count = w.default_count;
    if (!w.payload) {
        p.size = w.default_size;  // fixed by the mechanism (0 for sem, 8 for eventfd, …)
    } else {
        if (p.size == 0) p.size = w.default_size;
        if (p.size == 0) return unexpected("--size must be at least 1 byte");
        if (p.size > kMaxSize) return unexpected("--size " + human_size(p.size) + " is larger than the 1 GiB limit");
    }
    if (p.count == 0) return unexpected("--count must be at least 1");
    if (auto st = pick(w, "--sync", w.syncs, p.sync); !st) return st;
    if (auto st = pick(w, "--mode", w.modes, p.mode); !st) return st;
    if (w.check)
        if (auto st = w.check(p); !st) return st;
    if (p.rate != 0 && p.mode != Mode::Lossy) return unexpected("--rate paces --mode lossy only");
    return {};
}

}  // namespace ipctrace::workloads
