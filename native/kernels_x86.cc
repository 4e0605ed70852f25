// x86 micro-kernels of the portable GEMM, compiled for AVX2+FMA and AVX-512 through target attributes
// (the rest of the binary stays baseline x86-64); gemm_portable.cc picks one with __builtin_cpu_supports.
// Each kernel is instantiated twice: A from a packed sliver, or A rows read in place (see common.h).
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "common.h"

namespace cs {

namespace {

// AVX-512: 8×32 tile = 8 rows × 2 zmm = 16 accumulators (enough independent FMAs to cover the 4-cycle
// latency on two FMA ports), 2 B loads + 8 broadcasts per k step.
template <bool DirectA>
__attribute__((target("avx512f,avx512vl,fma"))) void avx512_8x32(long kc, const float* a, long lda, const float* b,
                                                                 long ldb, float* c, long ldc, float alpha,
                                                                 float beta) {
  constexpr int MR = 8;
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  const float* ar[MR];  // DirectA: the MR row pointers
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) ar[r] = a + r * lda;
  for (long p = 0; p < kc; ++p, b += ldb) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(DirectA ? ar[r][p] : a[p * MR + r]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
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
template <bool DirectA>
__attribute__((target("avx2,fma"))) void avx2_6x16(long kc, const float* a, long lda, const float* b, long ldb,
                                                   float* c, long ldc, float alpha, float beta) {
  constexpr int MR = 6;
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  const float* ar[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) ar[r] = a + r * lda;
  for (long p = 0; p < kc; ++p, b += ldb) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(DirectA ? &ar[r][p] : &a[p * MR + r]);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
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

// 8×8 register transposes: 8 loads, 24 shuffles, 8 stores per 64 floats (vs 64 scalar moves).
__attribute__((target("avx2,fma"))) void pack_transposed_avx2(const float* src, long lds, long kc, long cols,
                                                              long width, float* dst) {
  long c0 = 0;
  for (; c0 + 8 <= cols; c0 += 8) {
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
      const float* s = src + c0 * lds + p;
      const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds), r2 = _mm256_loadu_ps(s + 2 * lds),
                   r3 = _mm256_loadu_ps(s + 3 * lds), r4 = _mm256_loadu_ps(s + 4 * lds),
                   r5 = _mm256_loadu_ps(s + 5 * lds), r6 = _mm256_loadu_ps(s + 6 * lds),
                   r7 = _mm256_loadu_ps(s + 7 * lds);
      const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
      const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
      const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
      const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      float* d = dst + p * width + c0;
      _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(d + width, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(d + 2 * width, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(d + 3 * width, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(d + 4 * width, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(d + 5 * width, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(d + 6 * width, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(d + 7 * width, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    for (; p < kc; ++p)
      for (long c = c0; c < c0 + 8; ++c) dst[p * width + c] = src[c * lds + p];
  }
  if (c0 < width) {  // ragged columns and zero padding
    for (long p = 0; p < kc; ++p)
      for (long c = c0; c < width; ++c) dst[p * width + c] = c < cols ? src[c * lds + p] : 0.f;
  }
}

void ukr_avx512(long kc, const float* a, long lda, const float* b, long ldb, float* c, long ldc, float alpha,
                float beta) {
  (lda ? avx512_8x32<true> : avx512_8x32<false>)(kc, a, lda, b, ldb, c, ldc, alpha, beta);
}

void ukr_avx2(long kc, const float* a, long lda, const float* b, long ldb, float* c, long ldc, float alpha,
              float beta) {
  (lda ? avx2_6x16<true> : avx2_6x16<false>)(kc, a, lda, b, ldb, c, ldc, alpha, beta);
}

}  // namespace

KernelDesc kernel_avx512() { return {8, 32, ukr_avx512, pack_transposed_avx2, "avx512"}; }
KernelDesc kernel_avx2() { return {6, 16, ukr_avx2, pack_transposed_avx2, "avx2"}; }

}  // namespace cs
#endif
