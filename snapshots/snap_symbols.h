/* snap_symbols: data symbols of a flight-software ELF (libelf), for naming
 * changed guest memory in snapshot diffs. */
#pragma once
#include <glib.h>

typedef struct {
    char *name;
    guint64 addr, size;
} SnapSymbol;

/* Object symbols with a size, sorted by address (free with g_ptr_array_unref). */
GPtrArray *snap_symbols_load(const char *elf_path, GError **error);
/* The symbol containing ADDR, or NULL. */
const SnapSymbol *snap_symbols_find(GPtrArray *syms, guint64 addr);
