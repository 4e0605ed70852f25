// Branch-free float math shared by the elementwise and row kernels: plain arithmetic that GCC
// vectorises, so each kernel can be built for AVX-512, AVX2 and baseline x86 (CS_CLONES).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CS_CLONES
#endif

namespace cs {

// Branch-free clamp (two selects) that GCC if-converts and vectorises.
inline float clampf(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  return x;
}

// e^x for float, |relative error| < 2e-7: x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in two parts so k·ln2
// is exact), e^r by its Taylor series to r⁷ (truncation < 6e-9), times 2^k built in the exponent bits.
// Below −87 it returns ~1e-38 (not denormals); above 88.7 it returns +inf, as expf does.
inline float exp_f(float x) {
  const float xc = clampf(x, -87.0f, 88.0f);
  const float k = std::floor(xc * 1.44269504088896341f + 0.5f);
  const float r = (xc - k * 0.693145751953125f) - k * 1.42860682030941723e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x > 88.72f ? HUGE_VALF : p * scale;
}

}  // namespace cs
