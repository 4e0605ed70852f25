// Peak single-precision FMA throughput probe: every thread runs a register-only loop of independent
// FMA chains (AVX-512 if present, else AVX2+FMA, else scalar) until a shared deadline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace cs {

namespace {

using Clock = std::chrono::steady_clock;
constexpr long kInner = 1024;  // iterations between clock checks (~10 µs)

// Each kernel returns the flops it executed before `deadline`. 16 accumulators: FMA latency (4) ×
// 2 ports = 8 in flight needed; 16 leaves margin. acc = acc·m + a converges (no overflow/denormals).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) double loop_avx512(Clock::time_point deadline, float* sink) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 m = _mm512_set1_ps(0.999f), a = _mm512_set1_ps(0.001f);
  double iters = 0;
  do {
    for (long it = 0; it < kInner; ++it) {
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    }
    iters += kInner;
  } while (Clock::now() < deadline);
  alignas(64) float out[16];
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  _mm512_store_ps(out, s);
  *sink = out[0] + out[15];
  return iters * 16 * 16 * 2;
}

__attribute__((target("avx2,fma"))) double loop_avx2(Clock::time_point deadline, float* sink) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 m = _mm256_set1_ps(0.999f), a = _mm256_set1_ps(0.001f);
  double iters = 0;
  do {
    for (long it = 0; it < kInner; ++it) {
#pragma GCC unroll 12
      for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    }
    iters += kInner;
  } while (Clock::now() < deadline);
  float out[8];
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(out, s);
  *sink = out[0] + out[7];
  return iters * 12 * 8 * 2;
}
#endif

double loop_scalar(Clock::time_point deadline, float* sink) {
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = float(i);
  double iters = 0;
  do {
    for (long it = 0; it < kInner; ++it) {
      for (int i = 0; i < 16; ++i) acc[i] = acc[i] * 0.999f + 0.001f;
    }
    iters += kInner;
  } while (Clock::now() < deadline);
  float s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i];
  *sink = s;
  return iters * 16 * 2;
}

using Loop = double (*)(Clock::time_point, float*);

Loop pick_loop() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return loop_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return loop_avx2;
#endif
  return loop_scalar;
}

}  // namespace

const char* peak_isa() {
  const Loop l = pick_loop();
#if defined(__x86_64__) || defined(__i386__)
  if (l == loop_avx512) return "avx512";
  if (l == loop_avx2) return "avx2+fma";
#endif
  return l == loop_scalar ? "scalar" : "?";
}

double peak_gflops(double seconds, int threads) {
  seconds = std::clamp(seconds, 0.001, 60.0);
  threads = std::clamp(threads, 1, 1024);
  const Loop loop = pick_loop();
  std::vector<double> done(threads, 0.0);
  std::vector<float> sinks(threads, 0.f);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  auto body = [&](int t) {
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    done[t] = loop(deadline, &sinks[t]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(body, t);
  while (ready.load() < threads - 1) std::this_thread::yield();
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  body(0);
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  double total = 0;
  for (double d : done) total += d;
  volatile float keep = 0;
  for (float s : sinks) keep = keep + s;
  (void)keep;
  return total / wall / 1e9;
}

}  // namespace cs
