// Kernel selection (OpenBLAS or our portable kernel), thread count, and the threaded/batched drivers.
//
// Single GEMM: OpenBLAS with its own threads (= our thread count), or the portable kernel split
// along the larger of m/n across our pool. Batched GEMM (attention's many small products): the batch
// is split across our persistent pool and each worker runs a single-threaded GEMM per matrix.
#include <algorithm>
#include <climits>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"
#include "thread_pool.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

#if defined(__linux__)
#include <sched.h>
#endif

namespace cs {

namespace {

#ifdef HAVE_OPENBLAS
Kernel g_kernel = Kernel::OpenBLAS;
#else
Kernel g_kernel = Kernel::Portable;
#endif

ThreadPool& pool() {
  // Deliberately leaked: joining threads from a static destructor during process exit is fragile.
  static ThreadPool* p = new ThreadPool(default_threads());
  return *p;
}

#ifdef HAVE_OPENBLAS
bool fits_int(const Gemm& g) {
  const long lim = INT_MAX;
  return g.m <= lim && g.n <= lim && g.k <= lim && g.lda <= lim && g.ldb <= lim && g.ldc <= lim;
}

void openblas_st_or_mt(const Gemm& g) {
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, g.a,
              static_cast<int>(g.lda), g.b, static_cast<int>(g.ldb), g.beta, g.c, static_cast<int>(g.ldc));
}
#endif

double flops(const Gemm& g) { return 2.0 * double(g.m) * double(g.n) * double(g.k); }

// Sub-problem covering C rows [i0, i1) or columns [j0, j1).
Gemm rows_of(const Gemm& g, long i0, long i1) {
  Gemm s = g;
  s.m = i1 - i0;
  s.a = g.ta ? g.a + i0 : g.a + i0 * g.lda;
  s.c = g.c + i0 * g.ldc;
  return s;
}
Gemm cols_of(const Gemm& g, long j0, long j1) {
  Gemm s = g;
  s.n = j1 - j0;
  s.b = g.tb ? g.b + j0 * g.ldb : g.b + j0;
  s.c = g.c + j0;
  return s;
}

void portable_mt(const Gemm& g) {
  const int t = pool().size();
  if (t == 1 || flops(g) < 4e6) return portable_sgemm_st(g);
  // Split the larger output dimension in units that keep full micro-tiles (lcm of MRs 4/6/8 = 24 rows;
  // NRs 8/16/32 divide 32 columns).
  const bool by_cols = g.n >= g.m;
  const long extent = by_cols ? g.n : g.m, unit = by_cols ? 32 : 24;
  const long units = (extent + unit - 1) / unit;
  // One part per thread: each part re-packs the whole operand it shares with the others (A when split
  // by columns), so finer splits measured slower on large-K shapes (512×24576×768: 185 vs 232 GFLOP/s).
  const long parts = std::min<long>(t, units);
  if (parts <= 1) return portable_sgemm_st(g);
  pool().run(parts, [&](long p) {
    const long u0 = units * p / parts, u1 = units * (p + 1) / parts;
    const long e0 = u0 * unit, e1 = std::min(extent, u1 * unit);
    portable_sgemm_st(by_cols ? cols_of(g, e0, e1) : rows_of(g, e0, e1));
  });
}

}  // namespace

int default_threads() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

bool have_openblas() {
#ifdef HAVE_OPENBLAS
  return true;
#else
  return false;
#endif
}

void set_kernel(Kernel k) { g_kernel = have_openblas() ? k : Kernel::Portable; }
Kernel get_kernel() { return g_kernel; }

void set_threads(int n) {
  n = std::max(1, n);
  pool().resize(n);
#ifdef HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

int get_threads() { return pool().size(); }

void sgemm(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == 0.f) return scale_c(g);
#ifdef HAVE_OPENBLAS
  if (g_kernel == Kernel::OpenBLAS && fits_int(g)) {
    pool().park();  // our idle workers must not spin on the cores OpenBLAS is about to use
    return openblas_st_or_mt(g);
  }
#endif
  portable_mt(g);
}

void sgemm_batched(const Gemm& g, long stride_a, long stride_b, long stride_c, long batch) {
  if (batch <= 0 || g.m <= 0 || g.n <= 0) return;
  auto item = [&](long i) {
    Gemm s = g;
    s.a = g.a + i * stride_a;
    s.b = g.b + i * stride_b;
    s.c = g.c + i * stride_c;
    return s;
  };
  // Split the batch across the pool (one whole GEMM per task) when there are enough matrices to keep
  // every thread busy; otherwise run the GEMMs one after another, each threaded.
  const int t = pool().size();
  const bool small = flops(g) <= 32e6;
  const bool split_batch = small ? batch >= t : batch >= 2 * t;
  if (!split_batch || g.k <= 0 || g.alpha == 0.f) {
    for (long i = 0; i < batch; ++i) sgemm(item(i));
    return;
  }
  // Each worker runs whole GEMMs single-threaded with the portable kernel, whichever kernel is
  // selected: on attention-sized products (48 × 128×64×128) it measured ~1.3× faster per core than
  // single-threaded OpenBLAS 0.3.21 (it reads non-transposed operands in place instead of packing
  // them), and it keeps OpenBLAS's own thread pool out of our workers entirely.
  if (flops(g) * double(batch) < 1e6) {  // a few µs of work: waking a worker would cost more
    for (long i = 0; i < batch; ++i) portable_sgemm_st(item(i));
    return;
  }
  pool().run(batch, [&](long i) { portable_sgemm_st(item(i)); });
}

void parallel_chunks(long n, long grain, const std::function<void(long, long)>& fn) {
  if (n <= 0) return;
  const long parts = std::min<long>(pool().size(), (n + grain - 1) / grain);
  if (parts <= 1) return fn(0, n);
  pool().run(parts, [&](long p) { fn(n * p / parts, n * (p + 1) / parts); });
}

std::string openblas_config() {
#ifdef HAVE_OPENBLAS
  const char* s = openblas_get_config();
  return s ? s : "";
#else
  return "";
#endif
}

std::string openblas_corename() {
#ifdef HAVE_OPENBLAS
  const char* s = openblas_get_corename();
  return s ? s : "";
#else
  return "";
#endif
}

}  // namespace cs
