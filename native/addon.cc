// Node-API surface of circuitscope_native. Argument checking for users lives in TypeScript
// (src/tensor/gemm-args.ts); the checks here are a cheap last line of defence so that a direct call
// with bad arguments throws instead of reading or writing out of bounds.
#include <napi.h>

#include <algorithm>
#include <initializer_list>
#include <cmath>
#include <mutex>
#include <string>

#include "common.h"

namespace {

struct Mat {
  float* data;
  size_t length;
};

Mat get_f32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!info[i].IsTypedArray() ||
      napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array");
  }
  return {static_cast<float*>(data), length};
}

long get_int(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double v = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!(v >= 0 && v <= 9007199254740991.0 && std::floor(v) == v))
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer >= 0");
  return static_cast<long>(v);
}

float get_float(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return static_cast<float>(info[i].As<Napi::Number>().DoubleValue());
}

// Checks that a rows×cols matrix with leading dimension ld, repeated `batch` times every `stride`
// elements from `off`, lies inside `m`. Done in double to stay clear of integer overflow.
void check_extent(Napi::Env env, const Mat& m, long off, long rows, long cols, long ld, long stride,
                  long batch, const char* name) {
  if (ld < std::max(1L, cols))
    throw Napi::RangeError::New(env, std::string("leading dimension of ") + name + " too small");
  double end = double(off);
  if (rows > 0 && cols > 0 && batch > 0)
    end += double(batch - 1) * double(stride) + double(rows - 1) * double(ld) + double(cols);
  if (end > double(m.length)) throw Napi::RangeError::New(env, std::string(name) + " is out of bounds");
}

// Parses the shared prefix; `batched` selects the 20-argument strided-batched layout.
void run(const Napi::CallbackInfo& info, bool batched) {
  Napi::Env env = info.Env();
  const size_t want = batched ? 20 : 16;
  if (info.Length() != want) throw Napi::TypeError::New(env, "expected " + std::to_string(want) + " arguments");
  cs::Gemm g;
  g.ta = info[0].ToBoolean().Value();
  g.tb = info[1].ToBoolean().Value();
  g.m = get_int(info, 2, "m");
  g.n = get_int(info, 3, "n");
  g.k = get_int(info, 4, "k");
  g.alpha = get_float(info, 5, "alpha");
  const size_t s = batched ? 1 : 0;  // the batched form has one stride after each leading dimension
  const Mat a = get_f32(info, 6, "A");
  const long off_a = get_int(info, 7, "offA");
  g.lda = get_int(info, 8, "lda");
  const long stride_a = batched ? get_int(info, 9, "strideA") : 0;
  const Mat b = get_f32(info, 9 + s, "B");
  const long off_b = get_int(info, 10 + s, "offB");
  g.ldb = get_int(info, 11 + s, "ldb");
  const long stride_b = batched ? get_int(info, 13, "strideB") : 0;
  g.beta = get_float(info, 12 + 2 * s, "beta");
  const Mat c = get_f32(info, 13 + 2 * s, "C");
  const long off_c = get_int(info, 14 + 2 * s, "offC");
  g.ldc = get_int(info, 15 + 2 * s, "ldc");
  const long stride_c = batched ? get_int(info, 18, "strideC") : 0;
  const long batch = batched ? get_int(info, 19, "batch") : 1;

  check_extent(env, a, off_a, g.ta ? g.k : g.m, g.ta ? g.m : g.k, g.lda, stride_a, batch, "A");
  check_extent(env, b, off_b, g.tb ? g.n : g.k, g.tb ? g.k : g.n, g.ldb, stride_b, batch, "B");
  check_extent(env, c, off_c, g.m, g.n, g.ldc, stride_c, batch, "C");
  if (batch == 0 || g.m == 0 || g.n == 0) return;
  g.a = a.data + off_a;
  g.b = b.data + off_b;
  g.c = c.data + off_c;
  if (batched) {
    cs::sgemm_batched(g, stride_a, stride_b, stride_c, batch);
  } else {
    cs::sgemm(g);
  }
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  run(info, false);
  return info.Env().Undefined();
}

Napi::Value SgemmStridedBatched(const Napi::CallbackInfo& info) {
  run(info, true);
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const long n = info.Length() == 1 ? get_int(info, 0, "threads") : 0;
  if (n < 1 || n > 1024) throw Napi::RangeError::New(info.Env(), "threads must be an integer in 1..1024");
  cs::set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cs::get_threads()); }

Napi::Value SetKernel(const Napi::CallbackInfo& info) {
  const std::string k = info.Length() == 1 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (k == "portable") {
    cs::set_kernel(cs::Kernel::Portable);
  } else if (k == "openblas" && cs::have_openblas()) {
    cs::set_kernel(cs::Kernel::OpenBLAS);
  } else {
    throw Napi::Error::New(info.Env(), k == "openblas" ? "this build of circuitscope_native has no OpenBLAS"
                                                       : "kernel must be 'openblas' or 'portable'");
  }
  return info.Env().Undefined();
}

Napi::Value SetPortableIsa(const Napi::CallbackInfo& info) {
  const std::string isa = info.Length() == 1 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (!cs::set_portable_isa(isa))
    throw Napi::Error::New(info.Env(), "portable ISA '" + isa + "' is unknown or not supported by this CPU");
  return info.Env().Undefined();
}

const char* kernel_name() { return cs::get_kernel() == cs::Kernel::OpenBLAS ? "openblas" : "portable"; }

Napi::Value GetKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernel_name()); }

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", kernel_name());
  o.Set("threads", cs::get_threads());
  o.Set("defaultThreads", cs::default_threads());
  o.Set("openblas", cs::have_openblas());
  o.Set("openblasConfig", cs::openblas_config());
  o.Set("openblasCore", cs::openblas_corename());
  o.Set("portableIsa", cs::portable_isa());
  o.Set("peakIsa", cs::peak_isa());
  Napi::Array flags = Napi::Array::New(env);
  uint32_t nf = 0;
#ifdef HAVE_OPENBLAS
  flags.Set(nf++, "HAVE_OPENBLAS");
#endif
#if defined(__x86_64__) || defined(__i386__)
  flags.Set(nf++, "x86-multiversion(avx512,avx2+fma,generic)");
#else
  flags.Set(nf++, "generic-only");
#endif
#ifdef __VERSION__
  flags.Set(nf++, std::string("compiler ") + __VERSION__);
#endif
  flags.Set(nf++, "NAPI_VERSION=" + std::to_string(NAPI_VERSION));
  o.Set("compiledWith", flags);
  Napi::Object cpu = Napi::Object::New(env);
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  cpu.Set("avx2", __builtin_cpu_supports("avx2") != 0);
  cpu.Set("fma", __builtin_cpu_supports("fma") != 0);
  cpu.Set("avx512f", __builtin_cpu_supports("avx512f") != 0);
  cpu.Set("avx512bw", __builtin_cpu_supports("avx512bw") != 0);
  cpu.Set("avx512vl", __builtin_cpu_supports("avx512vl") != 0);
#endif
  o.Set("cpu", cpu);
  return o;
}

Napi::Value PeakGflops(const Napi::CallbackInfo& info) {
  const double seconds = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0.2;
  const long threads = info.Length() > 1 && !info[1].IsUndefined() ? get_int(info, 1, "threads") : cs::get_threads();
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(info.Env(), "seconds must be in (0, 60]");
  if (threads < 1 || threads > 1024) throw Napi::RangeError::New(info.Env(), "threads must be in 1..1024");
  return Napi::Number::New(info.Env(), cs::peak_gflops(seconds, static_cast<int>(threads)));
}

// Float32Arrays that must all have the same length (elementwise kernels); returns that length.
size_t same_length(const Napi::CallbackInfo& info, std::initializer_list<Mat> mats) {
  const size_t n = mats.begin()->length;
  for (const Mat& m : mats)
    if (m.length != n) throw Napi::RangeError::New(info.Env(), "elementwise arrays must have equal lengths");
  return n;
}

// geluForward(x, y): y = GELU_tanh(x)
Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  const Mat x = get_f32(info, 0, "x"), y = get_f32(info, 1, "y");
  cs::gelu_forward(x.data, y.data, static_cast<long>(same_length(info, {x, y})));
  return info.Env().Undefined();
}

// geluBackward(g, x, dx): dx = g · GELU'(x)
Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  const Mat g = get_f32(info, 0, "g"), x = get_f32(info, 1, "x"), dx = get_f32(info, 2, "dx");
  cs::gelu_backward(g.data, x.data, dx.data, static_cast<long>(same_length(info, {g, x, dx})));
  return info.Env().Undefined();
}

// adamUpdate(w, g, m, v, beta1, beta2, eps, l2, shrink, stepSize, invSqrtBc2): in place on w, m, v.
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  if (info.Length() != 11) throw Napi::TypeError::New(info.Env(), "adamUpdate expects 11 arguments");
  const Mat w = get_f32(info, 0, "w"), g = get_f32(info, 1, "g"), m = get_f32(info, 2, "m"), v = get_f32(info, 3, "v");
  const cs::AdamHyper h{get_float(info, 4, "beta1"), get_float(info, 5, "beta2"), get_float(info, 6, "eps"),
                        get_float(info, 7, "l2"), get_float(info, 8, "shrink"), get_float(info, 9, "stepSize"),
                        get_float(info, 10, "invSqrtBc2")};
  cs::adam_update(w.data, g.data, m.data, v.data, static_cast<long>(same_length(info, {w, g, m, v})), h);
  return info.Env().Undefined();
}

// A Float32Array argument that may be null/undefined (an optional weight or an unwanted gradient).
Mat get_f32_opt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsNull() || info[i].IsUndefined()) return {nullptr, 0};
  return get_f32(info, i, name);
}

// Rows of length d in an array: checks the length divides and returns the row count.
long rows_of(const Napi::CallbackInfo& info, const Mat& m, long d, const char* name) {
  if (d < 1 || m.length % size_t(d) != 0)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " length is not a multiple of the row length");
  return long(m.length / size_t(d));
}

void need_length(const Napi::CallbackInfo& info, const Mat& m, size_t n, const char* name) {
  if (m.data && m.length != n) throw Napi::RangeError::New(info.Env(), std::string(name) + " has the wrong length");
}

// normForward(x, w|null, b|null, y, mean, rstd, d, eps, center)
Napi::Value NormForward(const Napi::CallbackInfo& info) {
  if (info.Length() != 9) throw Napi::TypeError::New(info.Env(), "normForward expects 9 arguments");
  const Mat x = get_f32(info, 0, "x"), w = get_f32_opt(info, 1, "w"), b = get_f32_opt(info, 2, "b");
  const Mat y = get_f32(info, 3, "y"), mean = get_f32(info, 4, "mean"), rstd = get_f32(info, 5, "rstd");
  const long d = get_int(info, 6, "d");
  const long rows = rows_of(info, x, d, "x");
  need_length(info, y, x.length, "y");
  need_length(info, w, size_t(d), "w");
  need_length(info, b, size_t(d), "b");
  need_length(info, mean, size_t(rows), "mean");
  need_length(info, rstd, size_t(rows), "rstd");
  cs::norm_forward(x.data, w.data, b.data, y.data, mean.data, rstd.data, rows, d, get_float(info, 7, "eps"),
                   info[8].ToBoolean().Value());
  return info.Env().Undefined();
}

// normBackward(g, x, w|null, mean, rstd, dx|null, dw|null, db|null, d, center)
Napi::Value NormBackward(const Napi::CallbackInfo& info) {
  if (info.Length() != 10) throw Napi::TypeError::New(info.Env(), "normBackward expects 10 arguments");
  const Mat g = get_f32(info, 0, "g"), x = get_f32(info, 1, "x"), w = get_f32_opt(info, 2, "w");
  const Mat mean = get_f32(info, 3, "mean"), rstd = get_f32(info, 4, "rstd");
  const Mat dx = get_f32_opt(info, 5, "dx"), dw = get_f32_opt(info, 6, "dw"), db = get_f32_opt(info, 7, "db");
  const long d = get_int(info, 8, "d");
  const long rows = rows_of(info, x, d, "x");
  need_length(info, g, x.length, "g");
  need_length(info, dx, x.length, "dx");
  need_length(info, w, size_t(d), "w");
  need_length(info, dw, size_t(d), "dw");
  need_length(info, db, size_t(d), "db");
  need_length(info, mean, size_t(rows), "mean");
  need_length(info, rstd, size_t(rows), "rstd");
  cs::norm_backward(g.data, x.data, w.data, mean.data, rstd.data, dx.data, dw.data, db.data, rows, d,
                    info[9].ToBoolean().Value());
  return info.Env().Undefined();
}

// softmaxForward(x, y, n): softmax over consecutive rows of length n.
Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  const Mat x = get_f32(info, 0, "x"), y = get_f32(info, 1, "y");
  const long n = get_int(info, 2, "n");
  const long rows = rows_of(info, x, n, "x");
  need_length(info, y, x.length, "y");
  cs::softmax_forward(x.data, y.data, rows, n);
  return info.Env().Undefined();
}

// softmaxBackward(g, y, dx, n)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const Mat g = get_f32(info, 0, "g"), y = get_f32(info, 1, "y"), dx = get_f32(info, 2, "dx");
  const long n = get_int(info, 3, "n");
  const long rows = rows_of(info, y, n, "y");
  need_length(info, g, y.length, "g");
  need_length(info, dx, y.length, "dx");
  cs::softmax_backward(g.data, y.data, dx.data, rows, n);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;  // once per process, not per worker_thread
  std::call_once(once, [] { cs::set_threads(cs::default_threads()); });
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("sgemmStridedBatched", Napi::Function::New(env, SgemmStridedBatched, "sgemmStridedBatched"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setKernel", Napi::Function::New(env, SetKernel, "setKernel"));
  exports.Set("getKernel", Napi::Function::New(env, GetKernel, "getKernel"));
  exports.Set("setPortableIsa", Napi::Function::New(env, SetPortableIsa, "setPortableIsa"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("peakGflops", Napi::Function::New(env, PeakGflops, "peakGflops"));
  exports.Set("geluForward", Napi::Function::New(env, GeluForward, "geluForward"));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward, "geluBackward"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  exports.Set("normForward", Napi::Function::New(env, NormForward, "normForward"));
  exports.Set("normBackward", Napi::Function::New(env, NormBackward, "normBackward"));
  exports.Set("softmaxForward", Napi::Function::New(env, SoftmaxForward, "softmaxForward"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  return exports;
}

}  // namespace

NODE_API_MODULE(circuitscope_native, Init)
