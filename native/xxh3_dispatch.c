/* xxHash's own runtime CPU dispatch for XXH3 on x86-64 (AVX2, AVX-512 when the CPU has them),
 * compiled as its own translation unit. The file comes from the xxhash-addon package, whose
 * xxHash/ folder binding.gyp puts on the include path; only pdsm_shm.cc calls it. */
#include "xxh_x86dispatch.c"
