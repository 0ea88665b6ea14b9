/* Bundle manifest: round trip, and every kind of malformed manifest is
 * refused with an error naming the problem (never a crash). */
#include "bundle.h"

#include <glib/gstdio.h>
#include <string.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SNAP_ID "00112233445566778899aabbccddeeff"

static void set_file(BundleFile *f, const char *name, const char *sha, guint64 size)
{
    f->file = g_strdup(name);
    f->sha256 = g_strdup(sha);
    f->size = size;
}

static BundleManifest *sample(void)
{
    BundleManifest *m = bundle_manifest_new();
    m->created = g_strdup("2026-01-01T00:00:00Z");
    m->qemu_version = g_strdup("1:10.0.13+ds-0+deb13u1");
    m->machine = g_strdup("gr740");
    m->smp = 1;
    m->icount_shift = 2;
    const char *argv[] = {"qemu-system-sparc", "-M", "gr740", NULL};
    m->argv = g_strdupv((char **)argv);
    const char *extra[] = {"-d", "guest_errors", NULL};
    m->extra_args = g_strdupv((char **)extra);
    set_file(&m->fsw, "fsw.elf", SHA_A, 1000);
    m->has_input = TRUE;
    set_file(&m->input, "input.txt", SHA_B, 10);
    set_file(&m->replay_log, "replay.bin.zst", SHA_A, 500);
    m->replay_log_uncompressed_size = 5000;
    set_file(&m->uart, "uart.log", SHA_B, 300);
    m->has_uart_rx = TRUE;
    set_file(&m->uart_rx, "uart-rx.log", SHA_A, 77);
    m->checkpoint_store = g_strdup("checkpoints");
    m->init = (BundleCheckpoint){g_strdup("init"), 0, 0, 0, g_strdup(SNAP_ID)};
    m->icount_end = 1000000;
    m->virtual_ns_end = 4000000;
    m->final_digest = g_strdup(SHA_B);
    m->end_reason = g_strdup("--until icount:1000000");
    m->verified = TRUE;
    for (int i = 1; i <= 3; i++) {
        BundleCheckpoint ck = {g_strdup_printf("ckpt-%04d", i), i * 200000, i * 800000, i * 50,
                               g_strdup_printf("%031x%d", 0xabc, i)};
        g_array_append_val(m->checkpoints, ck);
    }
    return m;
}

static char *sample_json(void)
{
    BundleManifest *m = sample();
    char *s = bundle_manifest_to_json(m);
    bundle_manifest_free(m);
    return s;
}

static void test_roundtrip(void)
{
    g_autofree char *text = sample_json();
    GError *e = NULL;
    g_autoptr(BundleManifest) m = bundle_manifest_parse(text, strlen(text), &e);
    g_assert_no_error(e);
    g_assert_cmpstr(m->machine, ==, "gr740");
    g_assert_cmpint(m->icount_shift, ==, 2);
    g_assert_cmpuint(m->icount_end, ==, 1000000);
    g_assert_cmpuint(m->checkpoints->len, ==, 3);
    g_assert_cmpuint(g_array_index(m->checkpoints, BundleCheckpoint, 2).icount, ==, 600000);
    g_assert_cmpstr(m->extra_args[1], ==, "guest_errors");
    g_assert_true(m->has_input);
    g_assert_cmpstr(m->input.file, ==, "input.txt");
    g_assert_cmpuint(m->replay_log_uncompressed_size, ==, 5000);
    g_assert_true(m->has_uart_rx);
    g_assert_cmpstr(m->uart_rx.file, ==, "uart-rx.log");
    g_assert_cmpuint(m->uart_rx.size, ==, 77);
    g_assert_nonnull(bundle_find_checkpoint(m, "ckpt-0002"));
    g_assert_null(bundle_find_checkpoint(m, "ckpt-0009"));
    g_assert_cmpstr(bundle_checkpoint_before(m, 450000)->name, ==, "ckpt-0002");
    g_assert_null(bundle_checkpoint_before(m, 199999));
    /* serializing again gives the same text */
    g_autofree char *again = bundle_manifest_to_json(m);
    g_assert_cmpstr(again, ==, text);
}

/* Parses TEXT expecting failure with a message containing NEEDLE. */
static void expect_bad(const char *text, const char *needle)
{
    GError *e = NULL;
    BundleManifest *m = bundle_manifest_parse(text, strlen(text), &e);
    if (m) {
        bundle_manifest_free(m);
        g_error("accepted a bad manifest (wanted error '%s'): %.200s", needle, text);
    }
    g_assert_nonnull(e);
    if (!strstr(e->message, needle))
        g_error("error '%s' does not mention '%s'", e->message, needle);
    g_error_free(e);
}

/* The sample with the line containing KEY replaced by REPLACEMENT. */
static char *edit(const char *key, const char *replacement)
{
    g_autofree char *text = sample_json();
    char *p = strstr(text, key);
    g_assert_nonnull(p);
    char *line_start = p;
    while (line_start > text && line_start[-1] != '\n')
        line_start--;
    char *line_end = strchr(p, '\n');
    return g_strdup_printf("%.*s%s%s", (int)(line_start - text), text, replacement, line_end);
}

static void test_malformed_json(void)
{
    expect_bad("", "not a JSON object");
    expect_bad("{", "not valid JSON");
    expect_bad("[1,2]", "not a JSON object");
    expect_bad("\"itc-bundle\"", "not a JSON object");
    expect_bad("{\"format\": \"something-else\", \"version\": 1}", "not an itc bundle");
    expect_bad("{\"version\": 1}", "missing field 'format'");
    expect_bad("{\"format\": \"itc-bundle\", \"version\": 1}", "version 1 is not supported");
    expect_bad("{\"format\": \"itc-bundle\", \"version\": 3}", "version 3 is not supported");
    expect_bad("{\"format\": \"itc-bundle\", \"version\": \"1\"}", "must be an integer");
    g_autofree char *full = sample_json();
    /* truncated anywhere: never accepted */
    for (gsize n = 0; n + 2 < strlen(full); n += 7) {
        GError *e = NULL;
        BundleManifest *m = bundle_manifest_parse(full, n, &e);
        g_assert_null(m);
        g_assert_nonnull(e);
        g_error_free(e);
    }
    /* embedded NUL */
    GError *e = NULL;
    g_assert_null(bundle_manifest_parse("{\"a\":\0}", 7, &e));
    g_assert_nonnull(e);
    g_error_free(e);
}

static void test_missing_fields(void)
{
    const char *keys[] = {"\"qemu_version\"", "\"machine\"",      "\"icount_end\"",
                          "\"final_digest\"", "\"icount_shift\"", "\"created\""};
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *t = edit(keys[i], "\"unrelated\" : 0,");
        g_autofree char *name = g_strndup(keys[i] + 1, strlen(keys[i]) - 2);
        g_autofree char *needle = g_strdup_printf("missing field '%s'", name);
        expect_bad(t, needle);
    }
}

static void test_wrong_types(void)
{
    g_autofree char *a = edit("\"icount_end\"", "\"icount_end\" : \"many\",");
    expect_bad(a, "'icount_end' must be an integer");
    g_autofree char *b = edit("\"machine\"", "\"machine\" : 7,");
    expect_bad(b, "'machine' must be a string");
    g_autofree char *c = edit("\"icount_shift\"", "\"icount_shift\" : 2.5,");
    expect_bad(c, "'icount_shift' must be an integer");
    g_autofree char *d = edit("\"faults\"", "\"faults\" : {}");
    expect_bad(d, "'faults' must be an array");
    g_autofree char *f = edit("\"machine\"", "\"machine\" : \"leon3_generic\",");
    expect_bad(f, "only gr740");
    g_autofree char *g = edit("\"final_digest\"", "\"final_digest\" : \"xyz\",");
    expect_bad(g, "final_digest is not 64");
    g_autofree char *h = edit("\"smp\"", "\"smp\" : 4,");
    expect_bad(h, "smp 4 is not supported");
    g_autofree char *v = edit("\"verified\"", "\"verified\" : \"yes\",");
    expect_bad(v, "'verified' must be true or false");
}

/* "verified": kept through a round trip; absent (bundles from before the
 * field) means the verifying replay pass made the checkpoints */
static void test_verified(void)
{
    GError *e = NULL;
    g_autofree char *no = edit("\"verified\"", "  \"verified\" : false,");
    g_autoptr(BundleManifest) m = bundle_manifest_parse(no, strlen(no), &e);
    g_assert_no_error(e);
    g_assert_false(m->verified);
    g_autofree char *again = bundle_manifest_to_json(m);
    g_assert_cmpstr(again, ==, no);
    g_autofree char *absent = edit("\"verified\"", "");
    g_autoptr(BundleManifest) old = bundle_manifest_parse(absent, strlen(absent), &e);
    g_assert_no_error(e);
    g_assert_true(old->verified);
}

/* uart_rx is optional (bundles before it have none) but checked when there. */
static void test_uart_rx(void)
{
    GError *e = NULL;
    g_autofree char *text = sample_json();
    char *p = strstr(text, "\"uart_rx\"");
    g_assert_nonnull(p);
    char *end = strstr(p, "},\n");
    g_assert_nonnull(end);
    g_autofree char *without = g_strdup_printf("%.*s%s", (int)(p - text), text, end + 3);
    g_autoptr(BundleManifest) m = bundle_manifest_parse(without, strlen(without), &e);
    g_assert_no_error(e);
    g_assert_false(m->has_uart_rx);
    g_autofree char *again = bundle_manifest_to_json(m);
    g_assert_null(strstr(again, "uart_rx"));
    g_autofree char *bad = edit("\"file\" : \"uart-rx.log\"", "\"file\" : \"../rx\",");
    expect_bad(bad, "not a plain name");
    g_autofree char *notobj =
        g_strdup_printf("%.*s\"uart_rx\" : 5,\n  %s", (int)(p - text), text, end + 3);
    expect_bad(notobj, "uart_rx");
}

static void test_huge_values(void)
{
    g_autofree char *a = edit("\"icount_end\"", "\"icount_end\" : -5,");
    expect_bad(a, "out of range");
    g_autofree char *b = edit("\"icount_shift\"", "\"icount_shift\" : 99999999999,");
    expect_bad(b, "out of range");
    g_autofree char *c = edit("\"icount_end\"", "\"icount_end\" : 1e300,");
    expect_bad(c, "must be an integer");
    g_autofree char *d = edit("\"icount_end\"", "\"icount_end\" : 999999999999999999999999999999,");
    expect_bad(d, "icount_end");
    /* a manifest bigger than the limit is refused before parsing */
    gsize n = BUNDLE_MANIFEST_MAX + 1;
    char *big = g_malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = 0;
    expect_bad(big, "more than the limit");
    g_free(big);
    /* a huge string value */
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 300; i++)
        g_string_append(s, "xxxx");
    g_autofree char *line = g_strdup_printf("\"machine\" : \"%s\",", s->str);
    g_string_free(s, TRUE);
    g_autofree char *e = edit("\"machine\"", line);
    expect_bad(e, "longer than");
}

static void test_file_names_and_checkpoints(void)
{
    g_autofree char *a = edit("\"file\" : \"fsw.elf\"", "\"file\" : \"../../etc/passwd\",");
    expect_bad(a, "not a plain name");
    g_autofree char *b = edit("\"file\" : \"uart.log\"", "\"file\" : \"/tmp/x\",");
    expect_bad(b, "not a plain name");
    /* checkpoints out of order */
    g_autofree char *c = edit("\"icount\" : 400000", "\"icount\" : 100000,");
    expect_bad(c, "not greater than the previous");
    /* a checkpoint past the end */
    g_autofree char *d = edit("\"icount\" : 600000", "\"icount\" : 2000000,");
    expect_bad(d, "not before icount_end");
    g_autofree char *f = edit("\"name\" : \"ckpt-0001\"", "\"name\" : \"init\",");
    expect_bad(f, "ckpt-NNNN");
    /* store ids, the store directory and the start state */
    g_autofree char *h = edit("\"snapshot\" : \"" SNAP_ID, "\"snapshot\" : \"../x\"");
    expect_bad(h, "not a store id");
    g_autofree char *i = edit("\"checkpoint_store\"", "\"checkpoint_store\" : \"../elsewhere\",");
    expect_bad(i, "checkpoint_store '../elsewhere' is not a plain name");
    g_autofree char *j = edit("\"name\" : \"init\"", "\"name\" : \"ckpt-0000\",");
    expect_bad(j, "must be named 'init'");
    g_autofree char *full = sample_json();
    g_auto(GStrv) parts = g_strsplit(full, "\"checkpoints\" : [", 2);
    g_assert_nonnull(parts[1]);
    g_autofree char *g = g_strconcat(parts[0], "\"checkpoints\" : 5, \"x\" : [", parts[1], NULL);
    expect_bad(g, "'checkpoints' must be an array");
}

static void test_save_load_and_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("itc-test-bundle-XXXXXX", NULL);
    g_assert_nonnull(dir);
    BundleManifest *m = sample();
    GError *e = NULL;
    g_assert_true(bundle_manifest_save(m, dir, &e));
    g_assert_no_error(e);
    BundleManifest *l = bundle_manifest_load(dir, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(l->checkpoints->len, ==, 3);
    bundle_manifest_free(l);
    bundle_manifest_free(m);
    /* describe + verify, then damage the file */
    g_autofree char *p = g_build_filename(dir, "uart.log", NULL);
    g_assert_true(g_file_set_contents(p, "hello world\n", -1, NULL));
    BundleFile f = {0};
    g_assert_true(bundle_file_describe(&f, dir, "uart.log", &e));
    g_assert_cmpuint(f.size, ==, 12);
    g_assert_true(bundle_file_verify(&f, dir, &e));
    g_assert_true(g_file_set_contents(p, "hello world!\n", -1, NULL));
    g_assert_false(bundle_file_verify(&f, dir, &e));
    g_assert_nonnull(strstr(e->message, "truncated or damaged"));
    g_clear_error(&e);
    g_assert_true(g_file_set_contents(p, "hello worlD\n", -1, NULL));
    g_assert_false(bundle_file_verify(&f, dir, &e));
    g_assert_nonnull(strstr(e->message, "sha256"));
    g_clear_error(&e);
    /* zstd round trip and truncation */
    g_autofree char *z = g_build_filename(dir, "u.zst", NULL);
    g_autofree char *o = g_build_filename(dir, "u.out", NULL);
    GString *big = g_string_new(NULL);
    for (int i = 0; i < 100000; i++)
        g_string_append_printf(big, "line %d\n", i);
    g_assert_true(g_file_set_contents(p, big->str, big->len, NULL));
    g_assert_true(bundle_zstd_compress(p, z, 3, &e));
    guint64 n = 0;
    g_assert_true(bundle_zstd_decompress(z, o, big->len, &n, &e));
    g_assert_cmpuint(n, ==, big->len);
    g_assert_false(bundle_zstd_decompress(z, o, big->len - 1, &n, &e));
    g_assert_nonnull(strstr(e->message, "more than"));
    g_clear_error(&e);
    gchar *zdata;
    gsize zlen;
    g_assert_true(g_file_get_contents(z, &zdata, &zlen, NULL));
    g_assert_true(g_file_set_contents(z, zdata, zlen / 2, NULL));
    g_free(zdata);
    g_assert_false(bundle_zstd_decompress(z, o, big->len, &n, &e));
    g_assert_nonnull(strstr(e->message, "truncated"));
    g_clear_error(&e);
    g_string_free(big, TRUE);
    g_free(f.file);
    g_free(f.sha256);
    /* no manifest */
    g_autofree char *m2 = g_build_filename(dir, BUNDLE_MANIFEST, NULL);
    g_unlink(m2);
    g_assert_null(bundle_manifest_load(dir, &e));
    g_assert_nonnull(strstr(e->message, "cannot open the manifest"));
    g_clear_error(&e);
    g_unlink(p);
    g_unlink(z);
    g_unlink(o);
    g_rmdir(dir);
}

/* A file compressed while it grows, its head rewritten last (as QEMU writes
 * a replay log): the result decompresses to the file as it ended. */
static void test_zstd_follow(void)
{
    g_autofree char *dir = g_dir_make_tmp("itc-test-follow-XXXXXX", NULL);
    g_autofree char *src = g_build_filename(dir, "log", NULL);
    g_autofree char *dst = g_build_filename(dir, "log.zst", NULL);
    g_autofree char *out = g_build_filename(dir, "log.out", NULL);
    GError *e = NULL;
    BundleZstdFollow *z = bundle_zstd_follow_new(src, dst, 12, 9);
    g_assert_true(bundle_zstd_follow_step(z, &e)); /* no file yet: nothing to do */
    FILE *f = fopen(src, "wb");
    g_assert_nonnull(f);
    g_assert_cmpint(fseek(f, 12, SEEK_SET), ==, 0);
    GString *want = g_string_new(NULL);
    g_string_append_len(want, "HEADERxxxxxx", 12);
    for (int i = 0; i < 50000; i++) {
        char line[32];
        int n = g_snprintf(line, sizeof line, "event %d %d\n", i, g_random_int_range(0, 9));
        fwrite(line, 1, n, f);
        g_string_append_len(want, line, n);
        if (i % 5000 == 0) { /* some flushed, some still buffered */
            fflush(f);
            g_assert_true(bundle_zstd_follow_step(z, &e));
        }
    }
    g_assert_cmpint(fseek(f, 0, SEEK_SET), ==, 0);
    fwrite("HEADERxxxxxx", 1, 12, f);
    g_assert_cmpint(fclose(f), ==, 0);
    g_assert_true(bundle_zstd_follow_finish(z, &e));
    g_assert_no_error(e);
    bundle_zstd_follow_free(z);
    g_autofree char *body = g_strdup_printf("%s.body.tmp", dst);
    g_assert_false(g_file_test(body, G_FILE_TEST_EXISTS));
    guint64 n = 0;
    g_assert_true(bundle_zstd_decompress(dst, out, want->len, &n, &e));
    g_assert_no_error(e);
    gchar *got;
    gsize got_len;
    g_assert_true(g_file_get_contents(out, &got, &got_len, NULL));
    g_assert_cmpuint(got_len, ==, want->len);
    g_assert_true(memcmp(got, want->str, want->len) == 0);
    g_free(got);
    g_string_free(want, TRUE);
    /* a log shorter than its header, and one never written: named errors
     * that stick */
    g_assert_true(g_file_set_contents(src, "short", 5, NULL));
    z = bundle_zstd_follow_new(src, dst, 12, 3);
    g_assert_false(bundle_zstd_follow_finish(z, &e));
    g_assert_nonnull(strstr(e->message, "header"));
    g_assert_nonnull(strstr(e->message, src));
    g_clear_error(&e);
    g_assert_false(bundle_zstd_follow_step(z, &e));
    g_assert_nonnull(strstr(e->message, "header"));
    g_clear_error(&e);
    bundle_zstd_follow_free(z);
    g_unlink(src);
    z = bundle_zstd_follow_new(src, dst, 12, 3);
    g_assert_true(bundle_zstd_follow_step(z, &e));
    g_assert_false(bundle_zstd_follow_finish(z, &e));
    g_assert_nonnull(strstr(e->message, src));
    g_clear_error(&e);
    bundle_zstd_follow_free(z);
    /* the earlier good DST is still whole */
    g_assert_true(bundle_zstd_decompress(dst, out, G_MAXUINT64, &n, &e));
    g_unlink(dst);
    g_unlink(out);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* Counts as users write them: exact integers, or 1e9 notation only where
 * a double is exact; nothing negative, partial or out of range. */
static void test_parse_count(void)
{
    static const struct {
        const char *s;
        gboolean ok;
        guint64 v;
    } cases[] = {
        {"0", TRUE, 0},
        {"123456789", TRUE, 123456789},
        {"0x10", TRUE, 16},
        {"010", TRUE, 10}, /* not octal */
        {"08", TRUE, 8},
        {"0x", FALSE, 0},
        {"0x1p4", FALSE, 0}, /* no hex floats */
        {"0xg", FALSE, 0},
        {"1e+9", TRUE, 1000000000},
        {"1e9", TRUE, 1000000000},
        {"2.5e7", TRUE, 25000000},
        {"18446744073709551615", TRUE, G_MAXUINT64},
        /* beyond 2^53 only as an exact integer */
        {"9007199254740993", TRUE, 9007199254740993ULL},
        {"9.007199254740993e15", FALSE, 0},
        {"18446744073709551616", FALSE, 0},
        {"1.5", FALSE, 0},
        {"-1", FALSE, 0},
        {"+5", FALSE, 0},
        {" 5", FALSE, 0},
        {"5 ", FALSE, 0},
        {"", FALSE, 0},
        {"lots", FALSE, 0},
        {"1e", FALSE, 0},
        {"nan", FALSE, 0},
        {"inf", FALSE, 0},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 v = 7;
        gboolean ok = bundle_parse_count(cases[i].s, &v);
        if (ok != cases[i].ok)
            g_error("bundle_parse_count(\"%s\"): %s, want %s", cases[i].s, ok ? "TRUE" : "FALSE",
                    cases[i].ok ? "TRUE" : "FALSE");
        if (ok && v != cases[i].v)
            g_error("bundle_parse_count(\"%s\") = %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT,
                    cases[i].s, v, cases[i].v);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bundle/manifest_roundtrip", test_roundtrip);
    g_test_add_func("/bundle/malformed_json_is_refused", test_malformed_json);
    g_test_add_func("/bundle/parse_count", test_parse_count);
    g_test_add_func("/bundle/missing_fields_are_named", test_missing_fields);
    g_test_add_func("/bundle/wrong_types_are_named", test_wrong_types);
    g_test_add_func("/bundle/verified_flag", test_verified);
    g_test_add_func("/bundle/uart_rx_optional", test_uart_rx);
    g_test_add_func("/bundle/huge_values_are_refused", test_huge_values);
    g_test_add_func("/bundle/unsafe_names_and_bad_checkpoints", test_file_names_and_checkpoints);
    g_test_add_func("/bundle/save_load_verify_zstd", test_save_load_and_files);
    g_test_add_func("/bundle/zstd_follow_growing_file", test_zstd_follow);
    return g_test_run();
}
