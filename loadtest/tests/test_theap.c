/*
 * Unit tests for loadtest/theap.c, the load generator's timer heap: events come out earliest
 * first whatever order they went in (across the storage's growth), each with its own payload;
 * pushes and pops interleaved agree with a plain sorted list; clear and free leave a heap that
 * works again. One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "theap.h"

#define N 5000 /* past the first allocation (1024) a few times */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The time the test gives client i: scattered, with repeats. */
static int64_t time_of(uint32_t i)
{
    return (int64_t)((i * 7919u) % 1000u) * 1000;
}

static void test_theap_empty(void **state)
{
    struct theap h = {0};

    assert_null(theap_top(&h));
    theap_clear(&h);
    theap_free(&h);
    assert_null(theap_top(&h));
}

static void test_theap_pops_in_time_order(void **state)
{
    struct theap h = {0};
    int64_t last = INT64_MIN;
    int seen[N] = {0};

    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(theap_push(&h, (struct tev){time_of(i), i, (uint8_t)(i % 4), (uint16_t)i}),
                         0);
    assert_int_equal(h.len, N);
    for (int k = 0; k < N; k++) {
        const struct tev *top = theap_top(&h);
        int64_t top_at;
        struct tev t;

        assert_non_null(top);
        top_at = top->at;
        t = theap_pop(&h);
        assert_int_equal(t.at, top_at); /* top shows what pop returns */
        assert_true(t.at >= last);      /* never earlier than the one before */
        last = t.at;
        assert_true(t.client < N);
        assert_int_equal(t.at, time_of(t.client)); /* the payload travels with its time */
        assert_int_equal(t.kind, t.client % 4);
        assert_int_equal(t.round, (uint16_t)t.client);
        seen[t.client]++;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1); /* each exactly once */
    assert_null(theap_top(&h));
    theap_free(&h);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Random pushes and pops against a reference kept sorted: the heap's earliest is always the
 * reference's first. */
static void test_theap_interleaved(void **state)
{
    struct theap h = {0};
    int64_t *ref = calloc(N, sizeof(*ref));
    size_t n = 0;

    assert_non_null(ref);
    for (int step = 0; step < 4 * N; step++) {
        if (n < N && (n == 0 || next_rand() % 3)) {
            int64_t at = (int64_t)(next_rand() % 100000);
            assert_int_equal(theap_push(&h, (struct tev){.at = at}), 0);
            ref[n++] = at;
            qsort(ref, n, sizeof(*ref), cmp_i64);
        } else {
            assert_int_equal(theap_top(&h)->at, ref[0]);
            assert_int_equal(theap_pop(&h).at, ref[0]);
            for (size_t i = 1; i < n; i++)
                ref[i - 1] = ref[i];
            n--;
        }
        assert_int_equal(h.len, n);
    }
    free(ref);
    theap_free(&h);
}

static void test_theap_clear_and_free(void **state)
{
    struct theap h = {0};

    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(theap_push(&h, (struct tev){.at = 100 - i, .client = i}), 0);
    theap_clear(&h);
    assert_null(theap_top(&h));
    assert_int_equal(theap_push(&h, (struct tev){.at = 5, .client = 42}), 0);
    assert_int_equal(theap_push(&h, (struct tev){.at = 3, .client = 43}), 0);
    assert_int_equal(theap_pop(&h).client, 43);
    assert_int_equal(theap_pop(&h).client, 42);
    theap_free(&h);
    assert_null(h.v);
    assert_int_equal(h.len, 0);
    assert_int_equal(theap_push(&h, (struct tev){.at = 1, .client = 7}), 0);
    assert_int_equal(theap_top(&h)->client, 7);
    theap_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theap_empty),
        cmocka_unit_test(test_theap_pops_in_time_order),
        cmocka_unit_test(test_theap_interleaved),
        cmocka_unit_test(test_theap_clear_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
