/* XXH3 inlined and compiled for AVX2 (this file only; snap_hash.c calls it
 * only on CPUs that have AVX2). The state layout is the library's: same
 * header version. */
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("avx2")
#endif
#define XXH_INLINE_ALL
#include <string.h>
#include <xxhash.h>

#include "snap_hash_avx2.h"

void snap_hash128_avx2(const void *d, gsize n, guint8 out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(d, n));
    memcpy(out, c.digest, sizeof c.digest);
}

void snap_hash128_update_avx2(void *st, const void *d, gsize n)
{
    XXH3_128bits_update(st, d, n);
}
