// Sizes and counts as users type them: 4096, 4K, 64KiB, 1M, 1G; 100000, 100k, 1M.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/format.h"  // format_bytes, for the callers that print what they parsed

namespace ipctrace {

// A parsed value or a one-line error message.
using Parsed = std::variant<uint64_t, std::string>;

// Bytes with an optional binary suffix: K, KB, KiB = 1024; M, G, T likewise. Case-insensitive.
Parsed parse_size(std::string_view text);
// A count with an optional decimal suffix: k = 1000, M = 1000000, G = 10^9.
Parsed parse_count(std::string_view text);

}  // namespace ipctrace
