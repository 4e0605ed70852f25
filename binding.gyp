# Node-API addon circuitscope_native (native/*.cc). Links OpenBLAS when pkg-config finds it
# (defines HAVE_OPENBLAS); the portable blocked kernel is always compiled, so the build also works
# without OpenBLAS and on non-x86 machines (x86 SIMD kernels are selected at runtime per CPU).
{
  'variables': {
    'has_openblas%': '<!(pkg-config --exists openblas 2>/dev/null && echo 1 || echo 0)',
  },
  'targets': [
    {
      'target_name': 'circuitscope_native',
      'sources': [
        'native/addon.cc',
        'native/gemm_portable.cc',
        'native/kernels_x86.cc',
        'native/gemm_dispatch.cc',
        'native/peak.cc',
        'native/elementwise.cc',
        'native/rows.cc',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      # -fno-math-errno/-fno-trapping-math let GCC vectorise loops with sqrt/floor/selects (we never read errno or FP traps).
      'cflags': ['-O3', '-fexceptions', '-fno-math-errno', '-fno-trapping-math', '-Wall', '-Wextra'],
      'cflags_cc': ['-std=c++17', '-O3', '-fexceptions', '-fno-math-errno', '-fno-trapping-math', '-Wall', '-Wextra'],
      'ldflags': ['-pthread'],
      'xcode_settings': {
        'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'OTHER_CPLUSPLUSFLAGS': ['-O3'],
      },
      'msvs_settings': {'VCCLCompilerTool': {'ExceptionHandling': 1}},
      'conditions': [
        ['has_openblas==1', {
          'defines': ['HAVE_OPENBLAS'],
          'cflags': ['<!@(pkg-config --cflags openblas 2>/dev/null || true)'],
          'cflags_cc': ['<!@(pkg-config --cflags openblas 2>/dev/null || true)'],
          'libraries': ['<!@(pkg-config --libs openblas 2>/dev/null || true)'],
        }],
      ],
    },
  ],
}
