// Row kernels over the last axis, the non-GEMM hot spots of a transformer forward/backward pass:
// LayerNorm / RMSNorm (forward saves per-row mean and 1/σ; backward recomputes x̂ from them) and
// softmax. Rows are split across our thread pool; inner loops are plain arithmetic for GCC to vectorise.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "fastmath.h"

namespace cs {
namespace {

constexpr long kGrain = 1 << 14;  // elements per task

// Row statistics in double (d can be 768+; float sums would lose digits), the normalised row in float.
CS_CLONES void norm_fwd_rows(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                             long r0, long r1, long d, float eps, bool center) {
  for (long r = r0; r < r1; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    double mu = 0;
    if (center) {
      for (long j = 0; j < d; ++j) mu += xr[j];
      mu /= double(d);
    }
    double var = 0;
    for (long j = 0; j < d; ++j) {
      const double c = double(xr[j]) - mu;
      var += c * c;
    }
    const float rs = float(1.0 / std::sqrt(var / double(d) + double(eps)));
    const float m = float(mu);
    mean[r] = m;
    rstd[r] = rs;
    if (w && b) for (long j = 0; j < d; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    else if (w) for (long j = 0; j < d; ++j) yr[j] = (xr[j] - m) * rs * w[j];
    else for (long j = 0; j < d; ++j) yr[j] = (xr[j] - m) * rs;
  }
}

// dx = (dx̂ − mean(dx̂)·[center] − x̂·mean(dx̂ ⊙ x̂)) · rstd with dx̂ = g ⊙ w.
CS_CLONES void norm_bwd_rows(const float* g, const float* x, const float* w, const float* mean, const float* rstd,
                             float* dx, long r0, long r1, long d, bool center) {
  for (long r = r0; r < r1; ++r) {
    const float* gr = g + r * d;
    const float* xr = x + r * d;
    float* dr = dx + r * d;
    const float m = mean[r], rs = rstd[r];
    float m1 = 0, m2 = 0;
    for (long j = 0; j < d; ++j) {
      const float dh = w ? gr[j] * w[j] : gr[j];
      m1 += dh;
      m2 += dh * (xr[j] - m) * rs;
    }
    m1 = center ? m1 / float(d) : 0.0f;
    m2 /= float(d);
    for (long j = 0; j < d; ++j) {
      const float dh = w ? gr[j] * w[j] : gr[j];
      dr[j] = (dh - m1 - (xr[j] - m) * rs * m2) * rs;
    }
  }
}

// Column sums for the affine parameters over rows [r0, r1): dw += g ⊙ x̂, db += g.
CS_CLONES void norm_param_rows(const float* g, const float* x, const float* mean, const float* rstd, float* dw, float* db,
                               long r0, long r1, long d) {
  for (long r = r0; r < r1; ++r) {
    const float* gr = g + r * d;
    const float* xr = x + r * d;
    const float m = mean[r], rs = rstd[r];
    if (dw) for (long j = 0; j < d; ++j) dw[j] += gr[j] * (xr[j] - m) * rs;
    if (db) for (long j = 0; j < d; ++j) db[j] += gr[j];
  }
}

// Softmax of one row: masked entries (−∞) give exactly 0, as in PyTorch.
CS_CLONES void softmax_rows(const float* x, float* y, long r0, long r1, long n) {
  for (long r = r0; r < r1; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float mx = -HUGE_VALF;
    for (long j = 0; j < n; ++j) mx = xr[j] > mx ? xr[j] : mx;
    float z = 0;
    for (long j = 0; j < n; ++j) {
      const float e = xr[j] == -HUGE_VALF ? 0.0f : exp_f(xr[j] - mx);
      yr[j] = e;
      z += e;
    }
    const float inv = 1.0f / z;
    for (long j = 0; j < n; ++j) yr[j] *= inv;
  }
}

// dx = y ⊙ (g − Σ g⊙y)
CS_CLONES void softmax_bwd_rows(const float* g, const float* y, float* dx, long r0, long r1, long n) {
  for (long r = r0; r < r1; ++r) {
    const float* gr = g + r * n;
    const float* yr = y + r * n;
    float dot = 0;
    for (long j = 0; j < n; ++j) dot += gr[j] * yr[j];
    for (long j = 0; j < n; ++j) dx[r * n + j] = yr[j] * (gr[j] - dot);
  }
}

// Runs fn over row ranges of about kGrain elements.
template <class F>
void over_rows(long rows, long d, F fn) {
  const long per = std::max(1L, kGrain / std::max(1L, d));
  parallel_chunks(rows, per, [&](long a, long b) { fn(a, b); });
}

}  // namespace

void norm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, long rows, long d,
                  float eps, bool center) {
  over_rows(rows, d, [&](long a, long z) { norm_fwd_rows(x, w, b, y, mean, rstd, a, z, d, eps, center); });
}

void norm_backward(const float* g, const float* x, const float* w, const float* mean, const float* rstd, float* dx,
                   float* dw, float* db, long rows, long d, bool center) {
  if (dx) over_rows(rows, d, [&](long a, long z) { norm_bwd_rows(g, x, w, mean, rstd, dx, a, z, d, center); });
  if (!dw && !db) return;
  // Parameter gradients: each task sums its own rows into a private buffer; buffers are added at the end.
  const int parts = std::max(1, get_threads());
  std::vector<std::vector<float>> pw(parts), pb(parts);
  const long per = (rows + parts - 1) / parts;
  parallel_chunks(parts, 1, [&](long a, long z) {
    for (long t = a; t < z; ++t) {
      if (dw) pw[t].assign(d, 0.0f);
      if (db) pb[t].assign(d, 0.0f);
      const long r0 = t * per, r1 = std::min(rows, r0 + per);
      if (r0 < r1) norm_param_rows(g, x, mean, rstd, dw ? pw[t].data() : nullptr, db ? pb[t].data() : nullptr, r0, r1, d);
    }
  });
  for (long j = 0; j < d; ++j) {
    if (dw) { float s = 0; for (int t = 0; t < parts; ++t) s += pw[t][j]; dw[j] = s; }
    if (db) { float s = 0; for (int t = 0; t < parts; ++t) s += pb[t][j]; db[j] = s; }
  }
}

void softmax_forward(const float* x, float* y, long rows, long n) {
  over_rows(rows, n, [&](long a, long z) { softmax_rows(x, y, a, z, n); });
}

void softmax_backward(const float* g, const float* y, float* dx, long rows, long n) {
  over_rows(rows, n, [&](long a, long z) { softmax_bwd_rows(g, y, dx, a, z, n); });
}

}  // namespace cs
