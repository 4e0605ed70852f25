// x86 micro-kernels of the portable GEMM, compiled for AVX2+FMA and AVX-512 through target attributes
// (the rest of the binary stays baseline x86-64); gemm_portable.cc picks one with __builtin_cpu_supports.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "common.h"

namespace cs {

namespace {

// AVX-512: 8×32 tile = 8 rows × 2 zmm = 16 accumulators (enough independent FMAs to cover 4-cycle
// latency on two FMA ports), 2 B loads + 8 broadcasts per k step.
__attribute__((target("avx512f,avx512vl,fma"))) void ukr_avx512_8x32(long kc, const float* ap,
                                                                     const float* bp, float* c, long ldc,
                                                                     float alpha, float beta) {
  constexpr int MR = 8;
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (long p = 0; p < kc; ++p, ap += MR, bp += 32) {
    const __m512 b0 = _mm512_load_ps(bp);  // packed sliver rows are 64-byte aligned
    const __m512 b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(ap[r]);
      acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.f) {
      _mm512_storeu_ps(cr, _mm512_mul_ps(va, acc0[r]));
      _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, acc1[r]));
    } else {
      _mm512_storeu_ps(cr, _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), _mm512_mul_ps(va, acc0[r])));
      _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), _mm512_mul_ps(va, acc1[r])));
    }
  }
}

// AVX2+FMA: classic 6×16 tile = 6 rows × 2 ymm = 12 accumulators + 2 B + 1 broadcast = 15 registers.
__attribute__((target("avx2,fma"))) void ukr_avx2_6x16(long kc, const float* ap, const float* bp, float* c,
                                                       long ldc, float alpha, float beta) {
  constexpr int MR = 6;
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (long p = 0; p < kc; ++p, ap += MR, bp += 16) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(ap + r);
      acc0[r] = _mm256_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(a, b1, acc1[r]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.f) {
      _mm256_storeu_ps(cr, _mm256_mul_ps(va, acc0[r]));
      _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, acc1[r]));
    } else {
      _mm256_storeu_ps(cr, _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), _mm256_mul_ps(va, acc0[r])));
      _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), _mm256_mul_ps(va, acc1[r])));
    }
  }
}

}  // namespace

KernelDesc kernel_avx512() { return {8, 32, ukr_avx512_8x32, "avx512"}; }
KernelDesc kernel_avx2() { return {6, 16, ukr_avx2_6x16, "avx2"}; }

}  // namespace cs
#endif
