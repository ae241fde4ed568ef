// The pieces both SMO solvers share (smo.cpp: LIBSVM's pairwise one; smo_working_set.cpp: the
// large working set): a variable's bound status, LIBSVM's two-variable update and its rho.
#pragma once

#include <cstdint>
#include <limits>

#include "baselines/smo.h"

namespace hptrain::baselines::smo_detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kTau = 1e-12;  // ref: svm.cpp #define TAU 1e-12

enum Status : int8_t { kLower, kUpper, kFree };

// ref: svm.cpp Solver::Solve, the two-variable update: alpha_i, alpha_j move along y'a = const
// to the minimum of the objective restricted to the pair, clipped to the box [0, C_i] x [0, C_j].
void update_pair(int8_t y_i, int8_t y_j, double Q_ii, double Q_jj, double Q_ij, double G_i,
                 double G_j, double C_i, double C_j, double& ai, double& aj);

// ref: svm.cpp Solver::calculate_rho over the variables idx[0, n): the mean of y G over the
// free ones, else the middle of the bounds the others give.
double calculate_rho(const int8_t* y, const double* G, const int8_t* status, const int64_t* idx,
                     int64_t n);

// The large-working-set solver (smo_working_set.cpp); solve_smo calls it for working_set >= 2.
SmoResult solve_working_set(QMatrix& Q, const int8_t* y, const SmoOptions& opt);

}  // namespace hptrain::baselines::smo_detail
