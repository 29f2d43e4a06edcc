/*
 * Unit tests for loadtest/hist.c: bucket boundaries (exact below 128, contiguous and
 * non-overlapping above, within 1/128 of the value), quantiles against exactly known
 * distributions, the extremes (empty, one value, clamped huge values, q = 0 and 1), merging,
 * and the mean. One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

static struct hist h, h2;

static void assert_within(uint64_t got, uint64_t want, double rel)
{
    double diff = got > want ? (double)(got - want) : (double)(want - got);

    if (diff > rel * (double)want + 1e-9)
        fail_msg("got %llu, want %llu within %.4f", (unsigned long long)got,
                 (unsigned long long)want, rel);
}

static void test_small_values_are_exact(void **state)
{
    for (uint64_t v = 0; v < 256; v++) {
        unsigned b = hist_bucket_of(v);
        assert_int_equal(hist_bucket_low(b), v);
        assert_int_equal(hist_bucket_high(b), v);
    }
}

static void test_buckets_are_contiguous(void **state)
{
    for (unsigned b = 0; b + 1 < HIST_BUCKETS; b++) {
        assert_int_equal(hist_bucket_high(b) + 1, hist_bucket_low(b + 1));
        assert_int_equal(hist_bucket_of(hist_bucket_low(b)), b);
        assert_int_equal(hist_bucket_of(hist_bucket_high(b)), b);
    }
}

static void test_bucket_width_is_relative(void **state)
{
    uint64_t values[] = {300, 1000, 4097, 123456, 999999, 1000000007ULL, (1ULL << 41) + 12345};

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        unsigned b = hist_bucket_of(values[i]);
        assert_true(hist_bucket_low(b) <= values[i]);
        assert_true(hist_bucket_high(b) >= values[i]);
        assert_within(hist_bucket_high(b), values[i], 1.0 / HIST_SUB_COUNT);
    }
}

static void test_empty(void **state)
{
    hist_init(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    assert_int_equal(hist_quantile(&h, 1.0), 0);
    assert_true(hist_mean(&h) == 0.0);
}

static void test_single_value(void **state)
{
    hist_init(&h);
    hist_record(&h, 123456789);
    assert_int_equal(hist_quantile(&h, 0.0), 123456789);
    assert_int_equal(hist_quantile(&h, 0.5), 123456789); /* clamped to the exact max */
    assert_int_equal(hist_quantile(&h, 0.999), 123456789);
    assert_int_equal(hist_quantile(&h, 1.0), 123456789);
    assert_true(hist_mean(&h) == 123456789.0);
}

/* 1..100000 microseconds, each once: the q-quantile is q * 100000 us. */
static void test_uniform_quantiles(void **state)
{
    const double qs[] = {0.5, 0.9, 0.99, 0.999};

    hist_init(&h);
    for (uint64_t i = 1; i <= 100000; i++)
        hist_record(&h, i * 1000);
    assert_int_equal(h.count, 100000);
    assert_int_equal(h.min, 1000);
    assert_int_equal(h.max, 100000000);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        assert_within(hist_quantile(&h, qs[i]), (uint64_t)(qs[i] * 100000) * 1000,
                      1.0 / HIST_SUB_COUNT);
    assert_int_equal(hist_quantile(&h, 1.0), 100000000);
    assert_within((uint64_t)hist_mean(&h), 50000500, 1e-9);
}

/* 990 fast values and 10 slow ones: p99 is the last fast one, p99.9 a slow one. */
static void test_tail(void **state)
{
    hist_init(&h);
    for (int i = 0; i < 990; i++)
        hist_record(&h, 1000000); /* 1 ms */
    for (int i = 0; i < 10; i++)
        hist_record(&h, 50000000); /* 50 ms */
    assert_within(hist_quantile(&h, 0.99), 1000000, 1.0 / HIST_SUB_COUNT);
    assert_within(hist_quantile(&h, 0.991), 50000000, 1.0 / HIST_SUB_COUNT);
    assert_int_equal(hist_quantile(&h, 0.999), 50000000);
    assert_within(hist_quantile(&h, 0.5), 1000000, 1.0 / HIST_SUB_COUNT);
}

/* A quantile never reports less than the values it covers (bucket upper bound). */
static void test_quantile_is_not_optimistic(void **state)
{
    hist_init(&h);
    for (int i = 0; i < 1000; i++)
        hist_record(&h, 1000 + (uint64_t)i * 7919 % 100000);
    for (double q = 0.01; q < 1.0; q += 0.01) {
        uint64_t v = hist_quantile(&h, q), below = 0;
        /* count recorded values <= v by brute force */
        for (int i = 0; i < 1000; i++)
            if (1000 + (uint64_t)i * 7919 % 100000 <= v)
                below++;
        assert_true((double)below >= q * 1000 - 1e-9);
    }
}

static void test_clamped(void **state)
{
    hist_init(&h);
    hist_record(&h, UINT64_MAX);
    hist_record(&h, 1ULL << 50);
    assert_int_equal(h.clamped, 2);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.max, UINT64_MAX);
    assert_int_equal(hist_bucket_of(1ULL << 50), HIST_BUCKETS - 1);
    assert_int_equal(hist_quantile(&h, 0.5), UINT64_MAX); /* the last bucket is open-ended */
}

static void test_merge(void **state)
{
    hist_init(&h);
    hist_init(&h2);
    for (uint64_t i = 1; i <= 500; i++)
        hist_record(&h, i * 1000);
    for (uint64_t i = 501; i <= 1000; i++)
        hist_record(&h2, i * 1000);
    hist_merge(&h, &h2);
    assert_int_equal(h.count, 1000);
    assert_int_equal(h.min, 1000);
    assert_int_equal(h.max, 1000000);
    assert_within(hist_quantile(&h, 0.5), 500000, 1.0 / HIST_SUB_COUNT);
    hist_init(&h2);
    hist_merge(&h, &h2); /* merging an empty one changes nothing */
    assert_int_equal(h.count, 1000);
    assert_int_equal(h.min, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_values_are_exact),
        cmocka_unit_test(test_buckets_are_contiguous),
        cmocka_unit_test(test_bucket_width_is_relative),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_uniform_quantiles),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_quantile_is_not_optimistic),
        cmocka_unit_test(test_clamped),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
