/*
 * Tests for bans in force (server/bans.c): case-insensitive names, IPv4-mapped addresses,
 * expiry at the exact millisecond, bans for ever, kinds kept apart, removal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bans.h"

static int setup(void **state)
{
    static struct bans b;

    bans_init(&b);
    *state = &b;
    return 0;
}

static int teardown(void **state)
{
    bans_destroy(*state);
    return 0;
}

static void test_bans_names_fold_case_and_expire(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_NAME, "Troll", 5000), 0);
    assert_int_equal(bans_until(b, BAN_NAME, "troll", 4999), 5000);
    assert_int_equal(bans_until(b, BAN_NAME, "TROLL", 0), 5000);
    assert_int_equal(bans_until(b, BAN_NAME, "troll2", 0), 0);
    assert_int_equal(bans_until(b, BAN_NAME, "troll", 5000), 0); /* over at its end */
    assert_int_equal(bans_until(b, BAN_NAME, "troll", 0), 0);    /* and forgotten */
}

static void test_bans_names_in_any_script_fold_case(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_NAME, "Тролль", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_NAME, "тРОЛЛЬ", 0), BAN_FOREVER);
    assert_int_equal(bans_add(b, BAN_MUTE, "Straße", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_MUTE, "STRASSE", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_NAME, "Тролл", 0), 0);
}

static void test_bans_forever_and_kinds_apart(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_MUTE, "loud", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_MUTE, "Loud", INT64_MAX - 1), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_NAME, "loud", 0), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "loud", 0), 0);
    bans_remove(b, BAN_MUTE, "LOUD");
    assert_int_equal(bans_until(b, BAN_MUTE, "loud", 0), 0);
    bans_remove(b, BAN_MUTE, "nobody"); /* no-op */
}

static void test_bans_addresses_match_through_ipv6_mapping(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_ADDRESS, "127.0.0.2", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "::ffff:127.0.0.2", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "127.0.0.2", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "127.0.0.20", 0), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "2001:DB8::1", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8::1", 0), BAN_FOREVER);
}

static void test_bans_kind_names_and_descriptions(void **state)
{
    char buf[48];

    assert_int_equal(bans_kind_parse("name"), BAN_NAME);
    assert_int_equal(bans_kind_parse("address"), BAN_ADDRESS);
    assert_int_equal(bans_kind_parse("mute"), BAN_MUTE);
    assert_int_equal(bans_kind_parse("kick"), -1);
    bans_describe_until(BAN_FOREVER, buf, sizeof(buf));
    assert_string_equal(buf, "");
    bans_describe_until(1795411630185, buf, sizeof(buf));
    assert_string_equal(buf, " until 2026-11-23T05:27:10Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bans_names_fold_case_and_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_forever_and_kinds_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_addresses_match_through_ipv6_mapping, setup,
                                        teardown),
        cmocka_unit_test(test_bans_kind_names_and_descriptions),
        cmocka_unit_test_setup_teardown(test_bans_names_in_any_script_fold_case, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
