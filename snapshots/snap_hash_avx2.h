/* Internal to snap_hash.c: the AVX2 build (call only if the CPU has AVX2). */
#pragma once
#include <glib.h>

void snap_hash128_avx2(const void *d, gsize n, guint8 out[16]);
/* ST: an XXH3_state_t (its layout is the same in both builds) */
void snap_hash128_update_avx2(void *st, const void *d, gsize n);
