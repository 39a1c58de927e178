// The verdict of `compare`: a ranking and sentences written from the measured numbers.
#pragma once

#include <string>
#include <vector>

#include "model/compare_figures.h"

namespace ipctrace {

// Rows of one message size, fastest first.
std::vector<ComparedRow> rank(std::vector<ComparedRow> rows);

// Sentences for one message size: who won, by how much, which measured cost explains each
// gap, and what contradicts the usual story (shared memory losing).
std::vector<std::string> verdict_for_size(const std::vector<ComparedRow>& ranked);

// Sentences across sizes (a sweep): where the winner changes.
std::vector<std::string> verdict_for_sweep(const std::vector<std::vector<ComparedRow>>& ranked_by_size);

}  // namespace ipctrace
