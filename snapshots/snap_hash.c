#include "snap_hash.h"

#include "snap_hash_avx2.h"

#include <string.h>

void snap_hash128(const void *d, gsize n, guint8 out[16])
{
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2")) {
        snap_hash128_avx2(d, n, out);
        return;
    }
#endif
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(d, n));
    memcpy(out, c.digest, sizeof c.digest);
}

void snap_hash128_update(XXH3_state_t *st, const void *d, gsize n)
{
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2")) {
        snap_hash128_update_avx2(st, d, n);
        return;
    }
#endif
    XXH3_128bits_update(st, d, n);
}
