// The one number parser of ipctrace: every number a user types goes through here.
// Sizes and counts as users type them (4096, 4K, 64KiB, 1M; 100000, 100k, 1M) come back as an
// Expected with the one-line error; plain numbers as an optional, for callers whose error
// line names their own option and range.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "common/expected.h"
#include "common/format.h"  // format_bytes, for the callers that print what they parsed

namespace ipctrace {

// Bytes with an optional binary suffix: K, KB, KiB = 1024; M, G, T likewise. Case-insensitive.
Expected<uint64_t> parse_size(std::string_view text);
// A count with an optional decimal suffix: k = 1000, M = 1000000, G = 10^9.
Expected<uint64_t> parse_count(std::string_view text);

// Digits only, the whole text, within [low, high]; nullopt otherwise (no sign, no space).
std::optional<uint64_t> parse_whole(std::string_view text, uint64_t low = 0,
                                    uint64_t high = std::numeric_limits<uint64_t>::max());
// A finite decimal number ("2", "0.5", "1e-3"), the whole text, within [low, high].
std::optional<double> parse_decimal(std::string_view text, double low, double high);

}  // namespace ipctrace
