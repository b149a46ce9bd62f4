{
  # The PDSM addon: SysV shared memory system calls and the page hashes, nothing else
  # (STYLE.md "Native code stays thin"). Built by `npm install` (node-gyp rebuild) to
  # build/Release/pdsm_shm.node, which src/segments/native.ts loads.
  'targets': [
    {
      'target_name': 'pdsm_shm',
      'sources': [
        'native/pdsm_shm.cc',
        'native/attachment.cc',
        'native/args.cc',
        'native/sys_error.cc',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        # xxHash's own xxhash.h, as the xxhash-addon package publishes it (we use the header only).
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('xxhash-addon/package.json')), 'xxHash')\")",
      ],
      # node-addon-api's gyp entry for the exception mode chosen below: it turns
      # -fno-exceptions (node's common.gypi default) back into C++ exceptions on every OS.
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
      ],
      'defines': [
        # Node-API 8 (Node >= 12.22 / 14.17): enough for ArrayBuffer.Detach (7) and
        # per-environment instance data; pinned so a newer node-addon-api cannot raise it.
        'NAPI_VERSION=8',
        # Exception mode: C++ exceptions. A failing Node-API call (or an argument check)
        # throws a Napi::Error that unwinds straight back to JavaScript, so no code path can
        # forget to test env.IsExceptionPending() and go on with an empty handle. The cost
        # (unwinding) is paid only on errors; the hash loop throws nothing.
        'NAPI_CPP_EXCEPTIONS',
        # Use only the current node-addon-api surface.
        'NODE_ADDON_API_DISABLE_DEPRECATED',
      ],
      # gyp's 'cflags' reach both C and C++ compiles.
      'cflags': ['-Wall', '-Wextra'],
      'configurations': {
        'Release': {
          # -O2 instead of node's -O3: the hash loop is as fast, the code smaller.
          'cflags!': ['-O3'],
          'cflags': ['-O2'],
          'xcode_settings': {
            'GCC_OPTIMIZATION_LEVEL': '2',
          },
        },
      },
      'xcode_settings': {
        'WARNING_CFLAGS': ['-Wall', '-Wextra'],
      },
      'conditions': [
        # x86-64: xxHash's own runtime dispatch picks the widest vector unit the CPU has
        # (AVX2, AVX-512) for XXH3; node's build targets plain SSE2, which halves its speed.
        ['target_arch=="x64"', {
          'sources': ['native/xxh3_dispatch.c'],
          'defines': ['PDSM_XXH3_DISPATCH'],
        }],
      ],
    },
  ],
}
