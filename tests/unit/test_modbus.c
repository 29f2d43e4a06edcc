/*
 * Tests for the console's list of a cluster's nodes (server/cluster/modbus.c,
 * modbus_node_list): what each node wrote to parlor:nodes becomes one entry per node, sorted,
 * with its age; a node not heard from for MODBUS_SILENT_MS is marked silent, one older than
 * MODBUS_FORGET_MS (or whose entry is not figures at all) is left out and named for deletion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modbus.h"

#define NOW 1795400000000LL

static json_t *entry(json_t *list, size_t i)
{
    json_t *e = json_array_get(list, i);

    assert_non_null(e);
    return e;
}

static void test_modbus_lists_nodes_sorted_with_their_age(void **state)
{
    json_t *fields = json_pack("{s:{s:I, s:i}, s:{s:I, s:i}}", "node-b", "ts", NOW - 500,
                               "connections", 7, "node-a", "ts", NOW - 100, "connections", 3);
    json_t *stale = json_array(), *list;

    (void)state;
    list = modbus_node_list(fields, NOW, stale);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(entry(list, 0), "node")), "node-a");
    assert_int_equal(json_integer_value(json_object_get(entry(list, 0), "connections")), 3);
    assert_int_equal(json_integer_value(json_object_get(entry(list, 0), "age_ms")), 100);
    assert_string_equal(json_string_value(json_object_get(entry(list, 1), "node")), "node-b");
    assert_int_equal(json_integer_value(json_object_get(entry(list, 1), "age_ms")), 500);
    assert_true(json_is_false(json_object_get(entry(list, 1), "silent")));
    assert_int_equal(json_array_size(stale), 0);
    /* the caller's fields are not changed: the list holds copies */
    assert_null(json_object_get(json_object_get(fields, "node-a"), "age_ms"));
    json_decref(list);
    json_decref(stale);
    json_decref(fields);
}

static void test_modbus_marks_silent_nodes_and_forgets_old_ones(void **state)
{
    json_t *fields = json_pack("{s:{s:I}, s:{s:I}, s:{s:I}, s:s, s:{s:I}}", "quiet", "ts",
                               NOW - MODBUS_SILENT_MS - 1, "gone", "ts", NOW - MODBUS_FORGET_MS - 1,
                               "ahead", "ts", NOW + 2000, "garbage", "not figures", "exact", "ts",
                               NOW - MODBUS_SILENT_MS);
    json_t *stale = json_array(), *list;

    (void)state;
    list = modbus_node_list(fields, NOW, stale);
    assert_int_equal(json_array_size(list), 3);
    /* ahead, exact, quiet */
    assert_string_equal(json_string_value(json_object_get(entry(list, 0), "node")), "ahead");
    assert_int_equal(json_integer_value(json_object_get(entry(list, 0), "age_ms")), 0);
    assert_true(json_is_false(json_object_get(entry(list, 0), "silent")));
    assert_true(json_is_false(json_object_get(entry(list, 1), "silent")));
    assert_string_equal(json_string_value(json_object_get(entry(list, 2), "node")), "quiet");
    assert_true(json_is_true(json_object_get(entry(list, 2), "silent")));
    assert_int_equal(json_array_size(stale), 2);
    for (size_t i = 0; i < 2; i++) {
        const char *n = json_string_value(json_array_get(stale, i));
        assert_true(!strcmp(n, "gone") || !strcmp(n, "garbage"));
    }
    json_decref(list);
    json_decref(stale);
    json_decref(fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modbus_lists_nodes_sorted_with_their_age),
        cmocka_unit_test(test_modbus_marks_silent_nodes_and_forgets_old_ones),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
