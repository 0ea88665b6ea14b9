/* Fault scenario files: a valid scenario parses into what QEMU gets, the
 * manifest form round-trips, and every kind of bad entry is refused with a
 * message naming the entry and the problem (never a crash). */
#include "faults.h"

#include <string.h>

static GPtrArray *parse(const char *text, gboolean manifest, GError **error)
{
    return fault_list_parse(text, strlen(text), "test.json", manifest, error);
}

static void test_valid(void)
{
    GError *e = NULL;
    g_autoptr(GPtrArray) l = parse(
        "[{\"kind\": \"mem-seu\", \"target\": \"0x6624\", \"mask\": \"0x100\", \"icount\": 5},"
        " {\"kind\": \"uart-rx\", \"target\": \"apbuart0\", \"data\": \"41ff\", \"time-ns\": 7,"
        "  \"comment\": \"x\"},"
        " {\"kind\": \"irq\", \"target\": \"5\", \"count\": 3, \"icount\": 0},"
        " {\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"level\": 0, \"icount\": 9}]",
        FALSE, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(l->len, ==, 4);
    FaultSpec *f = l->pdata[0];
    g_assert_cmpstr(f->kind, ==, "mem-seu");
    g_assert_true(f->has_mask && f->mask == 0x100);
    g_assert_true(f->when == FAULT_AT_ICOUNT && f->at == 5);
    f = l->pdata[1];
    g_assert_true(f->when == FAULT_AT_TIME && f->at == 7);
    g_assert_cmpstr(f->data, ==, "41ff");
    g_autoptr(JsonObject) a = fault_qmp_args(l->pdata[1]);
    g_assert_cmpint(json_object_get_int_member(a, "time-ns"), ==, 7);
    g_assert_false(json_object_has_member(a, "icount"));
    g_assert_false(json_object_has_member(a, "comment"));
    g_autoptr(JsonObject) a2 = fault_qmp_args(l->pdata[2]);
    g_assert_cmpint(json_object_get_int_member(a2, "count"), ==, 3);
    g_assert_false(json_object_has_member(a2, "mask"));

    /* manifest form: with the outcome, round trip */
    f = l->pdata[0];
    f->id = 1;
    f->state = g_strdup("fired");
    f->fired = TRUE;
    f->fired_icount = 5;
    g_autofree char *text = fault_list_to_json_text(l);
    g_autoptr(GPtrArray) back = parse(text, TRUE, &e);
    g_assert_no_error(e);
    g_autofree char *again = fault_list_to_json_text(back);
    g_assert_cmpstr(text, ==, again);
    /* the outcome fields are not scenario fields */
    g_assert_null(parse(text, FALSE, &e));
    g_assert_error(e, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT);
    g_assert_nonnull(strstr(e->message, "fault 1"));
    g_clear_error(&e);
    g_autoptr(GPtrArray) empty = parse("[]", FALSE, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(empty->len, ==, 0);
}

static void test_bad(void)
{
    static const struct {
        const char *text, *needle1, *needle2;
    } cases[] = {
        {"[{\"kind\": \"mem-seu\",", "malformed JSON", "test.json"},
        {"{\"kind\": \"mem-seu\"}", "array", "test.json"},
        {"[5]", "fault 1", "object"},
        {"[{\"target\": \"0\", \"icount\": 1}]", "fault 1", "'kind'"},
        {"[{\"kind\": 7, \"target\": \"0\", \"icount\": 1}]", "fault 1", "'kind' must be a string"},
        {"[{\"kind\": \"zap\", \"target\": \"0\", \"icount\": 1}]", "fault 1",
         "unknown kind 'zap'"},
        {"[{\"kind\": \"gpio\", \"icount\": 1}]", "fault 1", "'target'"},
        {"[{\"kind\": \"gpio\", \"target\": \"\", \"icount\": 1}]", "fault 1", "'target'"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": 1},"
         " {\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": 1, \"colour\": 1}]",
         "fault 2 (gpio grgpio0.1)", "unknown field 'colour'"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\"}]", "fault 1", "icount"},
        {"[{\"kind\": \"timer-lost-ticks\", \"target\": \"gptimer0.0\", \"icount\": 1,"
         " \"duration-icount\": 100}]",
         "fault 1 (timer-lost-ticks gptimer0.0)", "takes 'duration-ns'"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"now\": true}]", "fault 1", "now"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": -1}]", "fault 1",
         "out of range"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": 1.5}]", "fault 1",
         "integer"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": \"5\"}]", "fault 1",
         "integer"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"icount\": 1, \"time-ns\": 1}]",
         "fault 1", "either"},
        {"[{\"kind\": \"gpio\", \"target\": \"grgpio0.1\", \"level\": 2, \"icount\": 1}]",
         "fault 1", "'level'"},
        {"[{\"kind\": \"irq\", \"target\": \"5\", \"count\": 0, \"icount\": 1}]", "fault 1",
         "'count'"},
        {"[{\"kind\": \"mem-seu\", \"target\": \"0\", \"mask\": true, \"icount\": 1}]", "fault 1",
         "'mask'"},
        {"[{\"kind\": \"mem-seu\", \"target\": \"0\", \"mask\": \"-1\", \"icount\": 1}]", "fault 1",
         "'mask'"},
        {"[{\"kind\": \"mem-seu\", \"target\": \"0\", \"mask\": \"0xzz\", \"icount\": 1}]",
         "fault 1", "'mask'"},
        {"[{\"kind\": \"uart-rx\", \"target\": \"apbuart0\", \"icount\": 1}]", "fault 1", "'data'"},
        {"[{\"kind\": \"uart-rx\", \"target\": \"apbuart0\", \"data\": \"4\", \"icount\": 1}]",
         "fault 1", "hex"},
        {"[{\"kind\": \"mem-seu\", \"target\": \"0\", \"data\": \"41\", \"icount\": 1}]", "fault 1",
         "only for uart-rx"},
        {"[{\"kind\": \"mem-seu\", \"target\": \"0123456789012345678901234567890123\", "
         "\"icount\": 1}]",
         "fault 1", "longer"},
        {"[{\"kind\": {}, \"target\": [], \"icount\": 1}]", "fault 1", "'kind'"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *e = NULL;
        GPtrArray *l = parse(cases[i].text, FALSE, &e);
        if (l || !e || !strstr(e->message, cases[i].needle1) ||
            !strstr(e->message, cases[i].needle2))
            g_error("case %zu (%s): got %s", i, cases[i].text, e ? e->message : "accepted");
        g_assert_error(e, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT);
        g_error_free(e);
    }
    /* more faults than QEMU's table holds */
    GString *s = g_string_new("[");
    for (int i = 0; i < FAULTS_MAX + 1; i++)
        g_string_append_printf(s, "%s{\"kind\": \"irq\", \"target\": \"5\", \"icount\": %d}",
                               i ? "," : "", i);
    g_string_append(s, "]");
    GError *e = NULL;
    g_assert_null(parse(s->str, FALSE, &e));
    g_assert_nonnull(strstr(e->message, "at most"));
    g_clear_error(&e);
    g_string_free(s, TRUE);
    /* a bad outcome field in a manifest */
    g_assert_null(parse("[{\"kind\": \"irq\", \"target\": \"5\", \"icount\": 1, \"state\": \"x\"}]",
                        TRUE, &e));
    g_assert_nonnull(strstr(e->message, "state"));
    g_clear_error(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/faults/valid_scenario_and_manifest_roundtrip", test_valid);
    g_test_add_func("/faults/bad_entries_are_named", test_bad);
    return g_test_run();
}
