/* snap_hash: XXH3 (libxxhash) with an AVX2 build of the hot paths, chosen
 * at run time (the library is built for baseline x86-64: SSE2). Same
 * results either way. */
#pragma once
#include <glib.h>
#include <xxhash.h>

/* XXH3-128 of D, canonical (big-endian) form. */
void snap_hash128(const void *d, gsize n, guint8 out[16]);
/* XXH3_128bits_update on a state from XXH3_createState/XXH3_128bits_reset. */
void snap_hash128_update(XXH3_state_t *st, const void *d, gsize n);
