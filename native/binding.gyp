# The native kernels (issue 15): one addon, the kernels compiled three times (AVX-512, AVX2+FMA,
# generic) into static libraries with their own -m flags and namespaces; addon.cc (generic flags)
# picks one by cpuid at load. Built by scripts/build-native.mjs with --nodedir (nothing downloaded).
{
  'variables': { 'qkv_cflags': ['-std=gnu++17', '-O3', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=fast', '-fvisibility=hidden'] },
  'target_defaults': {
    'cflags_cc!': ['-fno-exceptions'],
    'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
    'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS'],
  },
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        { 'target_name': 'kernels_avx512', 'type': 'static_library', 'sources': ['src/isa.cc'],
          'defines': ['QKV_ISA=avx512', 'QKV_W=16'],
          'cflags_cc': ['<@(qkv_cflags)', '-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mavx2', '-mfma', '-mprefer-vector-width=512'] },
        { 'target_name': 'kernels_avx2', 'type': 'static_library', 'sources': ['src/isa.cc'],
          'defines': ['QKV_ISA=avx2', 'QKV_W=8'],
          'cflags_cc': ['<@(qkv_cflags)', '-mavx2', '-mfma'] },
        { 'target_name': 'kernels_generic', 'type': 'static_library', 'sources': ['src/isa.cc'],
          'defines': ['QKV_ISA=generic', 'QKV_W=4'],
          'cflags_cc': ['<@(qkv_cflags)'] },
        { 'target_name': 'qkv_native', 'sources': ['src/addon.cc', 'src/pool.cc'],
          'defines': ['QKV_X64=1'],
          'dependencies': ['kernels_avx512', 'kernels_avx2', 'kernels_generic'],
          'cflags_cc': ['<@(qkv_cflags)'], 'libraries': ['-lpthread'] },
      ],
    }, {
      'targets': [
        { 'target_name': 'kernels_generic', 'type': 'static_library', 'sources': ['src/isa.cc'],
          'defines': ['QKV_ISA=generic', 'QKV_W=4'],
          'cflags_cc': ['<@(qkv_cflags)'] },
        { 'target_name': 'qkv_native', 'sources': ['src/addon.cc', 'src/pool.cc'],
          'dependencies': ['kernels_generic'],
          'cflags_cc': ['<@(qkv_cflags)'], 'libraries': ['-lpthread'] },
      ],
    }],
  ],
}
