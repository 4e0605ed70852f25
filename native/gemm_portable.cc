// Portable blocked SGEMM: Goto/BLIS-style cache blocking with packed panels and a register-tiled
// micro-kernel chosen at runtime (AVX-512 → AVX2+FMA → generic C++). Single-threaded; the threaded
// and batched drivers in gemm_dispatch.cc split work across our pool and call portable_sgemm_st.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common.h"

namespace cs {

namespace {

// Block sizes (elements). KC×NC B panel (256×1024 floats = 1 MiB) lives in L2; an MR×KC A sliver
// (≤ 8 KiB) stays in L1 while the micro-kernel sweeps the panel's NR-wide slivers.
constexpr long KC = 256;
constexpr long MC = 192;   // multiple of every MR we use (4, 6, 8)
constexpr long NC = 1024;  // multiple of every NR we use (8, 16, 32)

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buf = std::unique_ptr<float, FreeDeleter>;

float* alloc_floats(size_t count) {
  void* p = std::aligned_alloc(64, ((count * sizeof(float) + 63) / 64) * 64);
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

// Per-thread packing buffers, allocated on first use and kept for the thread's lifetime.
struct PackBuffers {
  Buf a{alloc_floats(MC * KC)};  // packed A block: [MC/MR slivers][KC][MR]
  Buf b{alloc_floats(KC * NC)};  // packed B panel: [NC/NR slivers][KC][NR]
};
PackBuffers& buffers() {
  thread_local PackBuffers bufs;
  return bufs;
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row slivers [kc][MR], zero-padding rows past mc.
template <int MR>
void pack_a(const Gemm& g, long i0, long mc, long p0, long kc, float* dst, PackTransposed pack_t) {
  for (long s = 0; s < mc; s += MR, dst += kc * MR) {
    const long rows = std::min<long>(MR, mc - s);
    if (!g.ta) {
      // A stored [m,k]: each of the MR rows is contiguous along p — a transposing pack.
      pack_t(g.a + (i0 + s) * g.lda + p0, g.lda, kc, rows, MR, dst);
    } else {
      // A stored [k,m]: row p of storage holds op(A)[:, p] contiguously.
      for (long p = 0; p < kc; ++p) {
        const float* src = g.a + (p0 + p) * g.lda + i0 + s;
        float* d = dst + p * MR;
        long r = 0;
        for (; r < rows; ++r) d[r] = src[r];
        for (; r < MR; ++r) d[r] = 0.f;
      }
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column slivers [kc][NR], zero-padding columns past nc.
template <int NR>
void pack_b(const Gemm& g, long p0, long kc, long j0, long nc, float* dst, PackTransposed pack_t) {
  for (long s = 0; s < nc; s += NR, dst += kc * NR) {
    const long cols = std::min<long>(NR, nc - s);
    if (!g.tb) {
      // B stored [k,n]: NR consecutive floats of row p.
      for (long p = 0; p < kc; ++p) {
        const float* src = g.b + (p0 + p) * g.ldb + j0 + s;
        float* d = dst + p * NR;
        if (cols == NR) {
          std::memcpy(d, src, NR * sizeof(float));
        } else {
          long c = 0;
          for (; c < cols; ++c) d[c] = src[c];
          for (; c < NR; ++c) d[c] = 0.f;
        }
      }
    } else {
      // B stored [n,k]: column j of op(B) is contiguous along p — a transposing pack.
      pack_t(g.b + (j0 + s) * g.ldb + p0, g.ldb, kc, cols, NR, dst);
    }
  }
}

// Operands up to this many floats (256 KiB) may be read in place instead of packed when they are not
// transposed: small matrices stay in L1/L2 anyway, and skipping the copy is what makes attention-sized
// GEMMs fast. Large ones are always packed (long strides would thrash the caches and TLB).
constexpr long kDirectMax = 64 * 1024;

template <int MR, int NR>
void drive(const Gemm& g, const KernelDesc& kd) {
  const MicroKernel ukr = kd.fn;
  PackBuffers& bufs = buffers();
  float* pa = bufs.a.get();
  float* pb = bufs.b.get();
  const bool direct_a = !g.ta && g.m * g.lda <= kDirectMax;
  const bool direct_b = !g.tb && g.k * g.ldb <= kDirectMax;
  alignas(64) float tmp[MR * NR];  // edge tile: [MR][NR]
  for (long jc = 0; jc < g.n; jc += NC) {
    const long nc = std::min(NC, g.n - jc);
    const long nc_full = nc / NR * NR;  // columns covered by full NR-wide slivers
    for (long pc = 0; pc < g.k; pc += KC) {
      const long kc = std::min(KC, g.k - pc);
      const float beta = pc == 0 ? g.beta : 1.f;  // later K blocks accumulate onto C
      // Direct B: only a ragged last sliver needs packing (it goes to the start of pb).
      if (!direct_b) {
        pack_b<NR>(g, pc, kc, jc, nc, pb, kd.pack_t);
      } else if (nc_full < nc) {
        pack_b<NR>(g, pc, kc, jc + nc_full, nc - nc_full, pb, kd.pack_t);
      }
      for (long ic = 0; ic < g.m; ic += MC) {
        const long mc = std::min(MC, g.m - ic);
        const long mc_full = mc / MR * MR;
        if (!direct_a) {
          pack_a<MR>(g, ic, mc, pc, kc, pa, kd.pack_t);
        } else if (mc_full < mc) {
          pack_a<MR>(g, ic + mc_full, mc - mc_full, pc, kc, pa, kd.pack_t);
        }
        for (long ir = 0; ir < mc; ir += MR) {
          const long rows = std::min<long>(MR, mc - ir);
          const bool a_in_place = direct_a && rows == MR;
          const float* ap = a_in_place ? g.a + (ic + ir) * g.lda + pc : pa + (direct_a ? 0 : ir * kc);
          const long lda = a_in_place ? g.lda : 0;
          for (long jr = 0; jr < nc; jr += NR) {
            const long cols = std::min<long>(NR, nc - jr);
            const bool b_in_place = direct_b && cols == NR;
            const float* bp = b_in_place ? g.b + pc * g.ldb + jc + jr : pb + (direct_b ? 0 : jr * kc);
            const long ldb = b_in_place ? g.ldb : NR;
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            if (rows == MR && cols == NR) {
              ukr(kc, ap, lda, bp, ldb, c, g.ldc, g.alpha, beta);
              continue;
            }
            ukr(kc, ap, lda, bp, ldb, tmp, NR, 1.f, 0.f);
            for (long r = 0; r < rows; ++r) {
              float* cr = c + r * g.ldc;
              const float* t = tmp + r * NR;
              if (beta == 0.f) {
                for (long q = 0; q < cols; ++q) cr[q] = g.alpha * t[q];
              } else {
                for (long q = 0; q < cols; ++q) cr[q] = g.alpha * t[q] + beta * cr[q];
              }
            }
          }
        }
      }
    }
  }
}

// Generic C++ micro-kernel, 4×8: small enough for 16 SSE / 32 NEON registers after auto-vectorisation.
void ukr_generic(long kc, const float* a, long lda, const float* b, long ldb, float* c, long ldc, float alpha,
                 float beta) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  const long rs = lda ? lda : 1, cs = lda ? 1 : MR;  // element (r,p) at a[r·rs + p·cs]
  for (long p = 0; p < kc; ++p, b += ldb) {
    for (int r = 0; r < MR; ++r) {
      const float av = a[r * rs + p * cs];
      for (int q = 0; q < NR; ++q) acc[r][q] += av * b[q];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.f) {
      for (int q = 0; q < NR; ++q) cr[q] = alpha * acc[r][q];
    } else {
      for (int q = 0; q < NR; ++q) cr[q] = alpha * acc[r][q] + beta * cr[q];
    }
  }
}

KernelDesc best_kernel() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return kernel_avx512();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kernel_avx2();
#endif
  return kernel_generic();
}

KernelDesc g_active = best_kernel();  // set once at load; set_portable_isa may downgrade it (tests)

}  // namespace

KernelDesc kernel_generic() { return {4, 8, ukr_generic, pack_transposed_generic, "generic"}; }

void pack_transposed_generic(const float* src, long lds, long kc, long cols, long width, float* dst) {
  for (long c = 0; c < width; ++c) {
    if (c >= cols) {
      for (long p = 0; p < kc; ++p) dst[p * width + c] = 0.f;
      continue;
    }
    const float* s = src + c * lds;
    for (long p = 0; p < kc; ++p) dst[p * width + c] = s[p];
  }
}

void scale_c(const Gemm& g) {
  for (long i = 0; i < g.m; ++i) {
    float* c = g.c + i * g.ldc;
    if (g.beta == 0.f) {
      std::fill(c, c + g.n, 0.f);
    } else if (g.beta != 1.f) {
      for (long j = 0; j < g.n; ++j) c[j] *= g.beta;
    }
  }
}

const char* portable_isa() { return g_active.isa; }

bool set_portable_isa(const std::string& isa) {
  if (isa == "best") {
    g_active = best_kernel();
    return true;
  }
  if (isa == "generic") {
    g_active = kernel_generic();
    return true;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx2" && has_avx2) {
    g_active = kernel_avx2();
    return true;
  }
  if (isa == "avx512" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) {
    g_active = kernel_avx512();
    return true;
  }
#endif
  return false;
}

void portable_sgemm_st(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == 0.f) return scale_c(g);
  const KernelDesc k = g_active;
  if (k.mr == 8 && k.nr == 32) return drive<8, 32>(g, k);
  if (k.mr == 6 && k.nr == 16) return drive<6, 16>(g, k);
  return drive<4, 8>(g, k);
}

}  // namespace cs
