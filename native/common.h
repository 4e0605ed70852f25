// Shared declarations of the circuitscope native compute layer.
// All matrices are row-major float32; leading dimensions and offsets are in elements (CBLAS RowMajor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace cs {

// One GEMM: C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C[m,n].
// Stored shapes: A is [m,k] (lda ≥ k) or, when ta, [k,m] (lda ≥ m); B is [k,n] (ldb ≥ n) or, when tb,
// [n,k] (ldb ≥ k); C is [m,n] (ldc ≥ n). Pointers already point at the first element of each matrix.
struct Gemm {
  bool ta = false, tb = false;
  long m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const float* a = nullptr;
  long lda = 0;
  const float* b = nullptr;
  long ldb = 0;
  float beta = 0.f;
  float* c = nullptr;
  long ldc = 0;
};

// BLAS semantics for the degenerate cases (shared by every kernel): m = 0 or n = 0 → nothing;
// k = 0 or alpha = 0 → C = beta·C, where beta = 0 stores exact zeros (NaN/Inf already in C are overwritten).
void scale_c(const Gemm& g);

// ---- portable kernel (gemm_portable.cc) ----
// Single-threaded blocked GEMM on the calling thread (uses thread-local packing buffers).
void portable_sgemm_st(const Gemm& g);
// Which micro-kernel the portable GEMM dispatches to on this CPU: "avx512", "avx2" or "generic".
const char* portable_isa();
// Forces the portable micro-kernel ("avx512" | "avx2" | "generic", or "best" to restore the default),
// for tests of every code path on one machine. Returns false if this CPU cannot run it. Not to be
// called while a GEMM is running.
bool set_portable_isa(const std::string& isa);

// ---- micro-kernels (kernels_x86.cc / gemm_portable.cc) ----
// Computes one MR×NR tile acc = Σ_p A[:,p] ⊗ B[p,:] over kc steps, then C[MR,NR] (row stride ldc)
// = alpha·acc + beta·C, never reading C when beta == 0.
//   A: lda == 0 → a packed sliver [kc][MR] (element (r,p) at a[p·MR + r]);
//      lda > 0  → MR rows of a row-major matrix read in place (element (r,p) at a[r·lda + p]).
//   B: element (p,c) at b[p·ldb + c]; ldb == NR for a packed sliver [kc][NR], else rows read in place.
using MicroKernel = void (*)(long kc, const float* a, long lda, const float* b, long ldb, float* c, long ldc,
                             float alpha, float beta);
// Transposing pack: dst[p·width + c] = src[c·lds + p] for c < cols, 0 for cols ≤ c < width; p < kc.
// Packs op(B) slivers when B is transposed and op(A) slivers when A is not.
using PackTransposed = void (*)(const float* src, long lds, long kc, long cols, long width, float* dst);
void pack_transposed_generic(const float* src, long lds, long kc, long cols, long width, float* dst);
struct KernelDesc {
  int mr, nr;
  MicroKernel fn;
  PackTransposed pack_t;
  const char* isa;
};
KernelDesc kernel_generic();
#if defined(__x86_64__) || defined(__i386__)
KernelDesc kernel_avx2();
KernelDesc kernel_avx512();
#endif

// ---- dispatch (gemm_dispatch.cc) ----
enum class Kernel { OpenBLAS, Portable };
bool have_openblas();
void set_kernel(Kernel k);
Kernel get_kernel();
void set_threads(int n);
int get_threads();
int default_threads();
// C = alpha·op(A)·op(B) + beta·C with the current kernel and thread count.
void sgemm(const Gemm& g);
// `batch` independent GEMMs; matrix i of each operand starts at base + i·stride (strides in elements).
void sgemm_batched(const Gemm& g, long stride_a, long stride_b, long stride_c, long batch);
std::string openblas_config();
std::string openblas_corename();

// Runs fn(begin, end) over [0, n) in contiguous chunks of at least `grain` elements, split across the
// pool (on the calling thread alone when n is small).
void parallel_chunks(long n, long grain, const std::function<void(long, long)>& fn);

// ---- elementwise kernels (elementwise.cc) ----
void gelu_forward(const float* x, float* y, long n);                 // y = GELU_tanh(x)
void gelu_backward(const float* g, const float* x, float* dx, long n);  // dx = g · GELU'(x)
// Adam / AdamW update in place (PyTorch semantics): g' = g + l2·w; m, v moments; w ← w·shrink − step_size·m/(√v·inv_sqrt_bc2 + eps).
struct AdamHyper {
  float beta1, beta2, eps, l2, shrink, step_size, inv_sqrt_bc2;
};
void adam_update(float* w, const float* g, float* m, float* v, long n, const AdamHyper& h);

// ---- row kernels over the last axis (rows.cc) ----
// LayerNorm (center) or RMSNorm over rows of length d: y = (x − mean)·rstd ⊙ w + b (w, b may be null);
// saves mean (0 for RMSNorm) and rstd = 1/√(var + eps) per row.
void norm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, long rows, long d,
                  float eps, bool center);
// Gradients from the saved statistics; dx, dw, db may each be null (not wanted).
void norm_backward(const float* g, const float* x, const float* w, const float* mean, const float* rstd, float* dx,
                   float* dw, float* db, long rows, long d, bool center);
void softmax_forward(const float* x, float* y, long rows, long n);                  // y = softmax(x) per row
void softmax_backward(const float* g, const float* y, float* dx, long rows, long n);  // dx = y ⊙ (g − Σ g⊙y)

// ---- peak probe (peak.cc) ----
// Runs an FMA-bound loop on `threads` threads concurrently for about `seconds`; returns GFLOP/s.
double peak_gflops(double seconds, int threads);
const char* peak_isa();

}  // namespace cs
