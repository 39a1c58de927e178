#include "common/format.h"

#include <cstdarg>
#include <cstdio>

namespace ipctrace {

std::string fmt(const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(out.data(), out.size() + 1, format, ap);
    va_end(ap);
    return out;
}

std::string format_bytes(double bytes) {
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return fmt("%.0f B", bytes);
    int unit = -1;
    while (bytes >= 1024 && unit < 3) {
        bytes /= 1024;
        ++unit;
    }
    return fmt("%.1f %s", bytes, kUnits[unit]);
}

std::string format_ns(double ns) {
    if (ns >= 1e9) return fmt("%.2f s", ns / 1e9);
    if (ns >= 1e6) return fmt("%.2f ms", ns / 1e6);
    if (ns >= 1e3) return fmt("%.1f us", ns / 1e3);
    return fmt("%.0f ns", ns);
}

std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += fmt("\\x%02x", c);
        else out += ch;
    }
    return out;
}

std::string quote(std::string_view text) {
    constexpr size_t kMax = 64;
    const bool cut = text.size() > kMax;
    // Appended, not `"'" + std::string`: GCC 12 at -O2 warns falsely (-Wrestrict) on that.
    std::string out(1, '\'');
    out += one_line(text.substr(0, kMax));
    if (cut) out += "…";
    out += '\'';
    return out;
}

}  // namespace ipctrace
