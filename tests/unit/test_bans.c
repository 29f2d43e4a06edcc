/*
 * Tests for bans in force (server/core/bans.c): case-insensitive names, IPv4-mapped addresses,
 * expiry at the exact millisecond, bans for ever, kinds kept apart, removal; address rules:
 * what parses and its canonical spelling, what is refused, prefix matching for IPv4 and IPv6
 * (mapped peers matching IPv4 rules), and unban lifting exactly one rule.
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

/* The canonical spelling of `text`, or "refused". */
static const char *canon(const char *text)
{
    static char out[BANS_ADDRESS_MAX];
    char why[200];

    if (bans_address_canon(text, out, why, sizeof(why))) {
        assert_true(why[0] != '\0'); /* a refusal says why */
        return "refused";
    }
    return out;
}

static void test_bans_address_rules_parse_to_one_spelling(void **state)
{
    (void)state;
    assert_string_equal(canon("10.0.0.5"), "10.0.0.5");
    assert_string_equal(canon("10.0.0.0/24"), "10.0.0.0/24");
    assert_string_equal(canon("10.0.0.5/32"), "10.0.0.5"); /* a /32 is the address */
    assert_string_equal(canon("0.0.0.0/0"), "0.0.0.0/0");
    assert_string_equal(canon("2001:DB8:0:0::1"), "2001:db8::1");
    assert_string_equal(canon("2001:db8::/32"), "2001:db8::/32");
    assert_string_equal(canon("2001:db8::1/128"), "2001:db8::1");
    assert_string_equal(canon("::/0"), "::/0");
    assert_string_equal(canon("::1"), "::1");
    /* IPv4-mapped IPv6 is the IPv4 address, prefix and all */
    assert_string_equal(canon("::ffff:127.0.0.2"), "127.0.0.2");
    assert_string_equal(canon("::FFFF:7f00:2"), "127.0.0.2");
    assert_string_equal(canon("::ffff:10.0.0.0/120"), "10.0.0.0/24");
    assert_string_equal(canon("::ffff:0.0.0.0/96"), "0.0.0.0/0");
}

static void test_bans_address_rules_refused(void **state)
{
    static const char *const bad[] = {
        "not-an-ip",
        "",
        "/24",
        "10.0.0.1/",
        "10.0.0.1/33",
        "10.0.0.1/-1",
        "10.0.0.1/+8",
        "10.0.0.0/024",
        "10.0.0.0/8/8",
        "10.0.0.0/ 8",
        "10.0.0.0/8 ",
        " 10.0.0.1",
        "010.0.0.1", /* leading zeros: octal to some parsers */
        "10.0.0.01",
        "10.1",
        "10.0.0.256",
        "1.2.3.4.5",
        "2001:db8::1/129",
        "2001:db8::/1000",
        "2001:db8::g",
        "fe80::1%lo",
        "10.0.0.5/24", /* bits past the prefix */
        "2001:db8::1/64",
        "localhost",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(canon(bad[i]), "refused"))
            fail_msg("'%s' was accepted as '%s'", bad[i], canon(bad[i]));
    }
}

static void test_bans_address_refusal_names_the_network(void **state)
{
    char out[BANS_ADDRESS_MAX], why[200];

    (void)state;
    assert_int_equal(bans_address_canon("10.0.0.5/24", out, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "10.0.0.0/24"));
    assert_int_equal(bans_address_canon("10.0.0.1/33", out, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "0 to 32"));
    assert_int_equal(bans_address_canon("::1/129", out, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "0 to 128"));
}

static void test_bans_ipv4_prefixes_match(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.0.0.0/24", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.0", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.255", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "::ffff:10.0.0.77", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.1.0", 0), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "9.255.255.255", 0), 0);
    /* an IPv6 rule never covers IPv4 peers, mapped or not */
    assert_int_equal(bans_until(b, BAN_ADDRESS, "::a00:1", 0), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "172.16.0.0/12", 7000), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "172.31.255.1", 6999), 7000);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "172.32.0.1", 0), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "172.31.255.1", 7000), 0); /* over */
    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.0.0.0/25", 0 + 9000), 0);
    /* two rules match: the one that ends last decides */
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.1", 0), BAN_FOREVER);
    /* junk is no peer of any rule */
    assert_int_equal(bans_until(b, BAN_ADDRESS, "", 0), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.0/24", 0), 0);
}

static void test_bans_everything_and_single_addresses(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_ADDRESS, "0.0.0.0/0", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "203.0.113.9", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "::ffff:203.0.113.9", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8::1", 0), 0);
    assert_true(bans_remove(b, BAN_ADDRESS, "0.0.0.0/0"));
    assert_int_equal(bans_until(b, BAN_ADDRESS, "203.0.113.9", 0), 0);

    assert_int_equal(bans_add(b, BAN_ADDRESS, "::/0", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8::1", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "127.0.0.1", 0), 0);
    assert_true(bans_remove(b, BAN_ADDRESS, "::/0"));

    assert_int_equal(bans_add(b, BAN_ADDRESS, "127.0.0.2/32", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "127.0.0.2", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "127.0.0.3", 0), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "2001:db8::1/128", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:DB8::1", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8::2", 0), 0);
}

static void test_bans_ipv6_prefixes_match(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_ADDRESS, "2001:db8:abcd::/48", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8:abcd:1234::5", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8:abce::5", 0), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "2001:db8:ff00::/41", BAN_FOREVER), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8:ff7f::1", 0), BAN_FOREVER);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "2001:db8:ff80::1", 0), 0); /* bit 41 set */
}

static void test_bans_unban_lifts_exactly_one_rule(void **state)
{
    struct bans *b = *state;

    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.0.0.0/24", BAN_FOREVER), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.0.0.5", BAN_FOREVER), 0);
    /* unbanning the address leaves the prefix that covers it */
    assert_true(bans_remove(b, BAN_ADDRESS, "::ffff:10.0.0.5"));
    assert_false(bans_remove(b, BAN_ADDRESS, "10.0.0.5"));
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.5", 0), BAN_FOREVER);
    /* nor does a narrower prefix lift a wider one */
    assert_false(bans_remove(b, BAN_ADDRESS, "10.0.0.0/25"));
    assert_true(bans_remove(b, BAN_ADDRESS, "::ffff:10.0.0.0/120")); /* the same rule */
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.0.0.5", 0), 0);
    assert_false(bans_remove(b, BAN_ADDRESS, "not-an-ip"));
    /* the same rule added again replaces its end */
    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.9.0.0/16", 5000), 0);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.9.0.0/16", 8000), 0);
    assert_int_equal(bans_until(b, BAN_ADDRESS, "10.9.1.1", 6000), 8000);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "10.9.0.1/16", 8000), -2);
    assert_int_equal(bans_add(b, BAN_ADDRESS, "garbage", 8000), -2);
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
        cmocka_unit_test(test_bans_address_rules_parse_to_one_spelling),
        cmocka_unit_test(test_bans_address_rules_refused),
        cmocka_unit_test(test_bans_address_refusal_names_the_network),
        cmocka_unit_test_setup_teardown(test_bans_ipv4_prefixes_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_everything_and_single_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_ipv6_prefixes_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_unban_lifts_exactly_one_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bans_names_in_any_script_fold_case, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
