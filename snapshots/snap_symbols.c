#include "snap_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

static void sym_free(gpointer p)
{
    SnapSymbol *s = p;
    g_free(s->name);
    g_free(s);
}

static gint by_addr(gconstpointer a, gconstpointer b)
{
    const SnapSymbol *x = *(SnapSymbol *const *)a, *y = *(SnapSymbol *const *)b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

GPtrArray *snap_symbols_load(const char *elf_path, GError **error)
{
    if (elf_version(EV_CURRENT) == EV_NONE) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "libelf: %s", elf_errmsg(-1));
        return NULL;
    }
    int fd = open(elf_path, O_RDONLY);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "cannot open %s", elf_path);
        return NULL;
    }
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not an ELF file", elf_path);
        if (e)
            elf_end(e);
        close(fd);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func(sym_free);
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d)
            continue;
        gsize n = sh.sh_size / sh.sh_entsize;
        for (gsize i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
                sym.st_size == 0)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
            if (!name)
                continue;
            SnapSymbol *s = g_new(SnapSymbol, 1);
            s->name = g_strdup(name);
            s->addr = sym.st_value;
            s->size = sym.st_size;
            g_ptr_array_add(out, s);
        }
    }
    elf_end(e);
    close(fd);
    g_ptr_array_sort(out, by_addr);
    return out;
}

const SnapSymbol *snap_symbols_find(GPtrArray *syms, guint64 addr)
{
    guint lo = 0, hi = syms->len;
    while (lo < hi) { /* first symbol with addr > ADDR */
        guint mid = (lo + hi) / 2;
        if (((SnapSymbol *)syms->pdata[mid])->addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const SnapSymbol *s = syms->pdata[lo - 1];
    return addr < s->addr + s->size ? s : NULL;
}
