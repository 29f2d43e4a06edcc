/*
 * Unit tests for server/base/ratelimit.c: the token bucket driven by a fake clock (the caller's
 * now_ms): starts full, refuses when empty, refills at per_sec up to burst and never beyond,
 * gains nothing when the clock goes backwards, and refunds capped at burst.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

/* Takes tokens at `now_ms` until refused; returns how many were granted. */
static int drain(struct tbucket *b, int per_sec, int burst, int64_t now_ms)
{
    int n = 0;

    while (tbucket_take(b, per_sec, burst, now_ms)) {
        n++;
        assert_true(n <= burst);
    }
    return n;
}

static void test_ratelimit_starts_full(void **state)
{
    struct tbucket b;

    (void)state;
    tbucket_init(&b, 3, 1000);
    assert_true(tbucket_take(&b, 5, 3, 1000));
    assert_true(tbucket_take(&b, 5, 3, 1000));
    assert_true(tbucket_take(&b, 5, 3, 1000));
    assert_false(tbucket_take(&b, 5, 3, 1000));

    tbucket_init(&b, 40, 0);
    assert_int_equal(drain(&b, 20, 40, 0), 40);
}

static void test_ratelimit_refuses_while_empty(void **state)
{
    struct tbucket b;

    (void)state;
    tbucket_init(&b, 2, 500);
    assert_int_equal(drain(&b, 1, 2, 500), 2);
    for (int i = 0; i < 10; i++)
        assert_false(tbucket_take(&b, 1, 2, 500));
    /* refused requests cost nothing: one token after exactly one second */
    assert_false(tbucket_take(&b, 1, 2, 1499));
    assert_true(tbucket_take(&b, 1, 2, 1500));
    assert_false(tbucket_take(&b, 1, 2, 1500));
}

static void test_ratelimit_refills_at_per_sec(void **state)
{
    struct tbucket b;

    (void)state;
    tbucket_init(&b, 10, 0);
    assert_int_equal(drain(&b, 5, 10, 0), 10);
    /* 5 a second: one token every 200 ms */
    assert_false(tbucket_take(&b, 5, 10, 199));
    assert_true(tbucket_take(&b, 5, 10, 200));
    assert_false(tbucket_take(&b, 5, 10, 200));
    assert_false(tbucket_take(&b, 5, 10, 399));
    assert_true(tbucket_take(&b, 5, 10, 400));
    /* a second brings five */
    assert_int_equal(drain(&b, 5, 10, 1400), 5);
}

static void test_ratelimit_fractional_refill_accumulates(void **state)
{
    struct tbucket b;

    (void)state;
    /* 3 a second: 333 ms is not quite a token, 334 ms is */
    tbucket_init(&b, 1, 0);
    assert_true(tbucket_take(&b, 3, 1, 0));
    assert_false(tbucket_take(&b, 3, 1, 333));
    assert_true(tbucket_take(&b, 3, 1, 334));

    /* many small steps add up like one big one */
    tbucket_init(&b, 1, 0);
    assert_true(tbucket_take(&b, 5, 1, 0));
    for (int64_t t = 10; t < 200; t += 10)
        assert_false(tbucket_take(&b, 5, 1, t));
    assert_true(tbucket_take(&b, 5, 1, 200));
}

static void test_ratelimit_never_above_burst(void **state)
{
    struct tbucket b;

    (void)state;
    tbucket_init(&b, 2, 0);
    assert_int_equal(drain(&b, 5, 2, 0), 2);
    /* an hour idle still gives only `burst` tokens */
    assert_int_equal(drain(&b, 5, 2, 3600 * 1000), 2);
    /* a full bucket left alone stays at burst */
    tbucket_init(&b, 4, 0);
    assert_int_equal(drain(&b, 1000, 4, 100000), 4);
}

static void test_ratelimit_clock_going_backwards_adds_nothing(void **state)
{
    struct tbucket b;

    (void)state;
    tbucket_init(&b, 1, 10000);
    assert_true(tbucket_take(&b, 5, 1, 10000));
    assert_false(tbucket_take(&b, 5, 1, 0));
    assert_false(tbucket_take(&b, 5, 1, -5000));
    /* back at the old time: the detour earned nothing */
    assert_false(tbucket_take(&b, 5, 1, 10000));
    assert_false(tbucket_take(&b, 5, 1, 10199));
    assert_true(tbucket_take(&b, 5, 1, 10200));

    /* nor does it take any away: tokens held can still be spent while the clock is behind */
    tbucket_init(&b, 2, 10000);
    assert_true(tbucket_take(&b, 5, 2, 10000));
    assert_true(tbucket_take(&b, 5, 2, 9000));
    assert_false(tbucket_take(&b, 5, 2, 9000));
    assert_false(tbucket_take(&b, 5, 2, 9500));
    assert_true(tbucket_take(&b, 5, 2, 10200));
}

static void test_ratelimit_refund(void **state)
{
    struct tbucket b;

    (void)state;
    /* a refund on a full bucket is capped */
    tbucket_init(&b, 2, 0);
    tbucket_refund(&b, 2);
    tbucket_refund(&b, 2);
    assert_int_equal(drain(&b, 1, 2, 0), 2);

    /* a refund gives back exactly one */
    tbucket_refund(&b, 2);
    assert_true(tbucket_take(&b, 1, 2, 0));
    assert_false(tbucket_take(&b, 1, 2, 0));

    /* take, refund: the bucket is as it was */
    tbucket_init(&b, 3, 0);
    assert_true(tbucket_take(&b, 1, 3, 0));
    tbucket_refund(&b, 3);
    assert_int_equal(drain(&b, 1, 3, 0), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_starts_full),
        cmocka_unit_test(test_ratelimit_refuses_while_empty),
        cmocka_unit_test(test_ratelimit_refills_at_per_sec),
        cmocka_unit_test(test_ratelimit_fractional_refill_accumulates),
        cmocka_unit_test(test_ratelimit_never_above_burst),
        cmocka_unit_test(test_ratelimit_clock_going_backwards_adds_nothing),
        cmocka_unit_test(test_ratelimit_refund),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
