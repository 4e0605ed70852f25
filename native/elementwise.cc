// Elementwise kernels that dominate training steps when left to JavaScript: GELU (tanh form) forward and
// backward, and the Adam/AdamW update. Each loop is plain arithmetic (our own exp, no libm calls) so GCC
// vectorises it; target_clones builds AVX-512, AVX2 and baseline versions picked at load time, and long
// arrays are split across our thread pool.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common.h"
#include "fastmath.h"

namespace cs {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;

// GELU_tanh(x) = ½x(1 + tanh u) with u = √(2/π)(x + 0.044715x³). Since ½(1 + tanh u) = σ(2u) = 1/(1 + e^{−2u}),
// we compute x·s with s = σ(2u): no cancellation for negative x (where 1 + tanh u ≈ 0), so the result is
// accurate relative to itself, not just to |x|. u is formed from x clamped to ±20, where s is already
// exactly 0 or 1 in float, so x³ never overflows.
inline float gelu_u(float v) {
  const float c = clampf(v, -20.0f, 20.0f);
  return kSqrt2OverPi * (c + kGeluC * c * c * c);
}

CS_CLONES void gelu_fwd_chunk(const float* x, float* y, long n) {
  for (long i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v / (1.0f + exp_f(-2.0f * gelu_u(v)));
  }
}

// d/dx [x·σ(2u)] = s + 2x·s(1 − s)·u′, with s = 1/(1 + e^{−2u}) and 1 − s = 1/(1 + e^{2u}) each from its own
// exponential (no cancellation, and no inf·0 where one of them overflows); 0 below x = −20, 1 above 20.
CS_CLONES void gelu_bwd_chunk(const float* g, const float* x, float* dx, long n) {
  for (long i = 0; i < n; ++i) {
    const float v = x[i];
    const float c = clampf(v, -20.0f, 20.0f);
    const float u = gelu_u(v);
    const float s = 1.0f / (1.0f + exp_f(-2.0f * u));
    const float sm = 1.0f / (1.0f + exp_f(2.0f * u));
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluC * c * c);
    dx[i] = g[i] * (s + 2.0f * c * s * sm * du);
  }
}

CS_CLONES void adam_chunk(float* w, const float* g, float* m, float* v, long n, AdamHyper h) {
  for (long i = 0; i < n; ++i) {
    const float gi = g[i] + h.l2 * w[i];
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * h.shrink - h.step_size * mi / (std::sqrt(vi) * h.inv_sqrt_bc2 + h.eps);
  }
}

constexpr long kGrain = 1 << 15;  // elements per task: large enough to amortise waking a worker

}  // namespace

void gelu_forward(const float* x, float* y, long n) {
  parallel_chunks(n, kGrain, [&](long a, long b) { gelu_fwd_chunk(x + a, y + a, b - a); });
}

void gelu_backward(const float* g, const float* x, float* dx, long n) {
  parallel_chunks(n, kGrain, [&](long a, long b) { gelu_bwd_chunk(g + a, x + a, dx + a, b - a); });
}

void adam_update(float* w, const float* g, float* m, float* v, long n, const AdamHyper& h) {
  parallel_chunks(n, kGrain, [&](long a, long b) { adam_chunk(w + a, g + a, m + a, v + a, b - a, h); });
}

}  // namespace cs
