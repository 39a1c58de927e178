// One colour per mechanism, the same in every chart and page: a reader who learned that
// pipes are blue in the map finds them blue in the histograms and in compare's bars.
#pragma once

#include <string>
#include <string_view>

namespace ipctrace {

// "#rrggbb" for a mechanism key (pipe, unix_stream, sysv_shm, …); grey for one not known.
std::string mechanism_colour(std::string_view key);
// A bundled workload's colour: its first mechanism's ("shm" and "shm:sem" are sysv_shm's).
std::string workload_colour(std::string_view workload);

}  // namespace ipctrace
