/* Unit tests of names.c: what a user name may be, its key and its confusable skeleton. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <unicode/uclean.h>

#include "names.h"

static enum names_verdict check(const char *name, int max)
{
    char out[NAMES_BYTES_MAX];

    return names_canonical(name, max, out);
}

/* True when the two names have the same key (are the same name). */
static int same_key(const char *a, const char *b)
{
    char ka[NAMES_KEY_MAX], kb[NAMES_KEY_MAX];

    assert_int_equal(names_key(a, ka), 0);
    assert_int_equal(names_key(b, kb), 0);
    return !strcmp(ka, kb);
}

/* True when a skeleton of one name equals a skeleton of the other (confusable). */
static int same_skeleton(const char *a, const char *b)
{
    char ka[NAMES_KEY_MAX], kb[NAMES_KEY_MAX];
    int same = 0;

    for (int i = 0; i < NAMES_SKELETONS; i++)
        for (int k = 0; k < NAMES_SKELETONS; k++) {
            assert_int_equal(names_skeleton(a, i, ka), 0);
            assert_int_equal(names_skeleton(b, k, kb), 0);
            same |= !strcmp(ka, kb);
        }
    return same;
}

static void test_names_ascii_as_before(void **state)
{
    (void)state;
    assert_int_equal(check("alice", 24), NAMES_OK);
    assert_int_equal(check("Bob_42-x", 24), NAMES_OK);
    assert_int_equal(check("_", 24), NAMES_OK);
    assert_int_equal(check("-", 24), NAMES_OK);
    assert_int_equal(check("a.b", 24), NAMES_BAD_CHAR);
    assert_int_equal(check("a@b", 24), NAMES_BAD_CHAR);
}

static void test_names_any_script(void **state)
{
    (void)state;
    assert_int_equal(check("Наташа", 24), NAMES_OK);   /* Cyrillic */
    assert_int_equal(check("Σωκράτης", 24), NAMES_OK); /* Greek */
    assert_int_equal(check("山田太郎", 24), NAMES_OK); /* Han */
    assert_int_equal(check("ユキ", 24), NAMES_OK);
    assert_int_equal(check("Иван_2", 24), NAMES_OK); /* digits and '_' go with any script */
    assert_int_equal(check("हिन्दी", 24), NAMES_OK);  /* Devanagari: combining marks */
}

static void test_names_mixed_script_refused(void **state)
{
    (void)state;
    /* Cyrillic а (U+0430) in a Latin name: a spoof */
    assert_int_equal(check("\xd0\xb0lice", 24), NAMES_MIXED_SCRIPT);
    assert_int_equal(check("Ivan\xd0\x98", 24), NAMES_MIXED_SCRIPT);
    assert_int_equal(check("abcα", 24), NAMES_MIXED_SCRIPT);
    /* Latin with Japanese is one of the combinations "highly restrictive" allows */
    assert_int_equal(check("Taro山田", 24), NAMES_OK);
    /* digits of two numbering systems */
    assert_int_equal(check("a1\xd9\xa1", 24), NAMES_MIXED_SCRIPT); /* 1 and Arabic-Indic 1 */
}

static void test_names_blank_and_control_refused(void **state)
{
    (void)state;
    assert_int_equal(check("", 24), NAMES_EMPTY);
    assert_int_equal(check("a b", 24), NAMES_BAD_CHAR);
    assert_int_equal(check(" ", 24), NAMES_BAD_CHAR);
    assert_int_equal(check("a\tb", 24), NAMES_BAD_CHAR);
    assert_int_equal(check("a\xc2\xa0"
                           "b",
                           24),
                     NAMES_BAD_CHAR); /* no-break space */
    assert_int_equal(check("a\xe2\x80\x8b"
                           "b",
                           24),
                     NAMES_BAD_CHAR); /* zero width space */
    assert_int_equal(check("a\xe2\x80\xae"
                           "b",
                           24),
                     NAMES_BAD_CHAR); /* right-to-left override */
    assert_int_equal(check("a\x7f", 24), NAMES_BAD_CHAR);
    assert_int_equal(check("a\xc2\x85", 24), NAMES_BAD_CHAR); /* NEL */
    assert_int_equal(check("\xff", 24), NAMES_INVALID);       /* not UTF-8 */
}

static void test_names_length_in_code_points(void **state)
{
    (void)state;
    /* 24 Cyrillic letters are 48 bytes and one name of the default 24 */
    assert_int_equal(check("жжжжжжжжжжжжжжжжжжжжжжжж", 24), NAMES_OK);
    assert_int_equal(check("жжжжжжжжжжжжжжжжжжжжжжжжж", 24), NAMES_TOO_LONG);
    assert_int_equal(check("abc", 3), NAMES_OK);
    assert_int_equal(check("abcd", 3), NAMES_TOO_LONG);
    /* counted after NFC: e + combining acute is one character, é */
    assert_int_equal(check("caf"
                           "e\xcc\x81",
                           4),
                     NAMES_OK);
    /* 64 four-byte letters fit the largest name_max */
    char big[4 * 64 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(big, "\xf0\xa0\x80\x80"); /* U+20000, a Han ideograph */
    assert_int_equal(check(big, 64), NAMES_OK);
}

static void test_names_nfc_display_form(void **state)
{
    char out[NAMES_BYTES_MAX];

    (void)state;
    /* NFD input (Е + combining diaeresis) comes out NFC (Ё) */
    assert_int_equal(names_canonical("\xd0\x95\xcc\x88ж", 24, out), NAMES_OK);
    assert_string_equal(out, "Ёж");
    assert_true(same_key("\xd0\x95\xcc\x88ж", "Ёж"));
    assert_true(same_key("ёж", "ЁЖ"));
}

static void test_names_case_folding(void **state)
{
    (void)state;
    assert_true(same_key("Alice", "aLICE"));
    assert_true(same_key("Наташа", "НАТАША"));
    assert_true(same_key("Σωκράτης", "ΣΩΚΡΆΤΗΣ")); /* final sigma and capital sigma fold alike */
    /* full case folding: ß is ss */
    assert_true(same_key("Straße", "STRASSE"));
    assert_false(same_key("alice", "alicf"));
}

static void test_names_confusable_skeletons(void **state)
{
    (void)state;
    assert_true(same_skeleton("\xd0\xb0lice", "alice")); /* Cyrillic а */
    assert_true(same_skeleton("\xd0\xb0lice", "ALICE"));
    assert_true(same_skeleton("асе", "ace"));   /* whole-script Cyrillic */
    assert_true(same_skeleton("Iris", "lris")); /* capital I and small l */
    assert_true(same_skeleton("paypal", "paypa1"));
    assert_false(same_skeleton("alice", "bob"));
    assert_false(same_skeleton("Наташа", "Маша"));
}

static int teardown_all(void **state)
{
    (void)state;
    names_thread_cleanup();
    u_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_ascii_as_before),
        cmocka_unit_test(test_names_any_script),
        cmocka_unit_test(test_names_mixed_script_refused),
        cmocka_unit_test(test_names_blank_and_control_refused),
        cmocka_unit_test(test_names_length_in_code_points),
        cmocka_unit_test(test_names_nfc_display_form),
        cmocka_unit_test(test_names_case_folding),
        cmocka_unit_test(test_names_confusable_skeletons),
    };

    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
