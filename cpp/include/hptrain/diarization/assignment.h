// The linear assignment problem (scipy.optimize.linear_sum_assignment): a one-to-one pairing of
// rows and columns of a rectangular cost matrix with the least total cost (Hungarian algorithm,
// Jonker-Volgenant style shortest augmenting paths, O(n^2 m)).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace hptrain::diarization {

// cost: [rows, cols] row-major. Returns min(rows, cols) (row, col) pairs, sorted by row.
std::vector<std::pair<int, int>> linear_sum_assignment(const std::vector<double>& cost, int rows,
                                                       int cols);

}  // namespace hptrain::diarization
