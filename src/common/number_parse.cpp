#include "common/number_parse.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace ipctrace {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Splits "64KiB" into 64 and "kib"; nullopt-like error when there are no digits.
Expected<uint64_t> parse_scaled(std::string_view text, std::string_view what, bool binary) {
    const std::string quoted = quote(text);  // one line whatever was typed
    size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && text[i] == '-') return unexpected(what == "size" ? "--size must be a positive number of bytes, not " + quoted
                                                                             : "--count must be a positive number, not " + quoted);
    uint64_t value = 0;
    size_t digits = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) {
        const uint64_t d = static_cast<uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) return unexpected("--" + std::string(what) + " " + quoted + " is too large");
        value = value * 10 + d;
    }
    if (digits == 0) return unexpected("--" + std::string(what) + " must be a number" + (binary ? " of bytes like 4096, 4K or 1M" : " like 1000 or 10k") + ", not " + quoted);
    const std::string suffix = lower(text.substr(i));
    uint64_t scale = 1;
    const uint64_t base = binary ? 1024 : 1000;
    if (suffix.empty() || (binary && suffix == "b")) scale = 1;
    else if (suffix == "k" || (binary && (suffix == "kb" || suffix == "kib"))) scale = base;
    else if (suffix == "m" || (binary && (suffix == "mb" || suffix == "mib"))) scale = base * base;
    else if (suffix == "g" || (binary && (suffix == "gb" || suffix == "gib"))) scale = base * base * base;
    else if (binary && (suffix == "t" || suffix == "tb" || suffix == "tib")) scale = base * base * base * base;
    else return unexpected("--" + std::string(what) + " has an unknown suffix in " + quoted + (binary ? " (use K, M or G)" : " (use k, M or G)"));
    if (value > std::numeric_limits<uint64_t>::max() / scale) return unexpected("--" + std::string(what) + " " + quoted + " is too large");
    return value * scale;
}

}  // namespace

Expected<uint64_t> parse_size(std::string_view text) { return parse_scaled(text, "size", true); }
Expected<uint64_t> parse_count(std::string_view text) { return parse_scaled(text, "count", false); }

std::optional<uint64_t> parse_whole(std::string_view text, uint64_t low, uint64_t high) {
    uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < low || value > high) return std::nullopt;
    return value;
}

std::optional<double> parse_decimal(std::string_view text, double low, double high) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value < low || value > high)
        return std::nullopt;
    return value;
}

}  // namespace ipctrace
