/*
 * Tests for the log-linear histogram (server/base/histo.c): exact for small values, within one
 * sub-bucket (12.5%) for large ones, percentiles by rank, and the maximum kept exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "histo.h"

static void test_histo_empty_is_zero(void **state)
{
    struct histo h;

    memset(&h, 0, sizeof(h));
    assert_int_equal(histo_percentile(&h, 50), 0);
}

static void test_histo_small_values_are_exact(void **state)
{
    struct histo h;

    memset(&h, 0, sizeof(h));
    for (uint64_t v = 1; v <= 7; v++)
        histo_add(&h, v);
    assert_int_equal(histo_percentile(&h, 0), 1);
    assert_int_equal(histo_percentile(&h, 50), 4);
    assert_int_equal(histo_percentile(&h, 100), 7);
}

static void test_histo_percentiles_by_rank_within_one_bucket(void **state)
{
    struct histo h;
    uint64_t p50, p99;

    memset(&h, 0, sizeof(h));
    /* 1..100000: p50 is 50000, p99 is 99000 */
    for (uint64_t v = 1; v <= 100000; v++)
        histo_add(&h, v);
    p50 = histo_percentile(&h, 50);
    p99 = histo_percentile(&h, 99);
    assert_true(p50 >= 50000 && p50 <= 50000 + 50000 / 8);
    assert_true(p99 >= 99000 && p99 <= 100000);
    assert_int_equal(histo_percentile(&h, 100), 100000);
    assert_int_equal(h.count, 100000);
}

static void test_histo_outlier_shows_at_the_top_only(void **state)
{
    struct histo h;

    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 999; i++)
        histo_add(&h, 1000);
    histo_add(&h, 5000000000ULL);
    assert_true(histo_percentile(&h, 99) <= 1000 + 1000 / 8);
    assert_true(histo_percentile(&h, 99) >= 1000);
    assert_int_equal(histo_percentile(&h, 100), 5000000000ULL);
    assert_int_equal(h.max, 5000000000ULL);
}

static void test_histo_huge_values_do_not_overflow(void **state)
{
    struct histo h;

    memset(&h, 0, sizeof(h));
    histo_add(&h, UINT64_MAX);
    histo_add(&h, UINT64_MAX / 2);
    assert_int_equal(histo_percentile(&h, 100), UINT64_MAX);
    assert_true(histo_percentile(&h, 50) >= UINT64_MAX / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histo_empty_is_zero),
        cmocka_unit_test(test_histo_small_values_are_exact),
        cmocka_unit_test(test_histo_percentiles_by_rank_within_one_bucket),
        cmocka_unit_test(test_histo_outlier_shows_at_the_top_only),
        cmocka_unit_test(test_histo_huge_values_do_not_overflow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
