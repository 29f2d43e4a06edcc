/*
 * Unit tests for server/base/hmap.c: put/get/replace/delete, counts, binary keys (NUL bytes, the
 * length is part of the key), keys copied in, and enough keys and churn to exercise resizing
 * and backward-shift deletion, checked against a plain reference table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hmap.h"

static int setup_map(void **state)
{
    struct hmap *m = malloc(sizeof(*m));

    if (!m)
        return -1;
    hmap_init(m);
    *state = m;
    return 0;
}

static int teardown_map(void **state)
{
    struct hmap *m = *state;

    hmap_destroy(m);
    free(m);
    return 0;
}

static void *get_s(const struct hmap *m, const char *key)
{
    return hmap_get(m, key, strlen(key));
}

static void test_hmap_empty(void **state)
{
    struct hmap *m = *state;

    assert_int_equal(m->count, 0);
    assert_null(get_s(m, "a"));
    assert_null(hmap_get(m, "", 0));
    assert_null(hmap_del(m, "a", 1));
    assert_int_equal(m->count, 0);
}

static void test_hmap_put_get(void **state)
{
    struct hmap *m = *state;
    int a, b, c;

    assert_int_equal(hmap_put(m, "alice", 5, &a), 0);
    assert_int_equal(m->count, 1);
    assert_int_equal(hmap_put(m, "bob", 3, &b), 0);
    assert_int_equal(hmap_put(m, "carol", 5, &c), 0);
    assert_int_equal(m->count, 3);
    assert_ptr_equal(get_s(m, "alice"), &a);
    assert_ptr_equal(get_s(m, "bob"), &b);
    assert_ptr_equal(get_s(m, "carol"), &c);
    assert_null(get_s(m, "dave"));
    assert_null(get_s(m, "Alice"));
    assert_null(get_s(m, "alic"));
    assert_null(get_s(m, "alicee"));
}

static void test_hmap_replace_keeps_count(void **state)
{
    struct hmap *m = *state;
    int a, b;

    assert_int_equal(hmap_put(m, "k", 1, &a), 0);
    assert_int_equal(hmap_put(m, "k", 1, &b), 0);
    assert_int_equal(m->count, 1);
    assert_ptr_equal(get_s(m, "k"), &b);
    assert_ptr_equal(hmap_del(m, "k", 1), &b);
    assert_int_equal(m->count, 0);
    assert_null(get_s(m, "k"));
}

static void test_hmap_del(void **state)
{
    struct hmap *m = *state;
    int a, b, c;

    assert_int_equal(hmap_put(m, "a", 1, &a), 0);
    assert_int_equal(hmap_put(m, "b", 1, &b), 0);
    assert_int_equal(hmap_put(m, "c", 1, &c), 0);

    assert_ptr_equal(hmap_del(m, "b", 1), &b);
    assert_int_equal(m->count, 2);
    assert_null(get_s(m, "b"));
    assert_ptr_equal(get_s(m, "a"), &a);
    assert_ptr_equal(get_s(m, "c"), &c);

    /* deleting again, or a key never there, changes nothing */
    assert_null(hmap_del(m, "b", 1));
    assert_null(hmap_del(m, "zz", 2));
    assert_int_equal(m->count, 2);
    assert_ptr_equal(get_s(m, "a"), &a);
    assert_ptr_equal(get_s(m, "c"), &c);

    /* a deleted key can come back */
    assert_int_equal(hmap_put(m, "b", 1, &c), 0);
    assert_int_equal(m->count, 3);
    assert_ptr_equal(get_s(m, "b"), &c);
}

static void test_hmap_binary_keys(void **state)
{
    struct hmap *m = *state;
    int v[6];

    assert_int_equal(hmap_put(m, "a\0b", 3, &v[0]), 0);
    assert_int_equal(hmap_put(m, "a\0c", 3, &v[1]), 0);
    assert_int_equal(hmap_put(m, "a", 1, &v[2]), 0);
    assert_int_equal(hmap_put(m, "a\0", 2, &v[3]), 0);
    assert_int_equal(hmap_put(m, "", 0, &v[4]), 0);
    assert_int_equal(hmap_put(m, "\0\0\0", 3, &v[5]), 0);
    assert_int_equal(m->count, 6);

    assert_ptr_equal(hmap_get(m, "a\0b", 3), &v[0]);
    assert_ptr_equal(hmap_get(m, "a\0c", 3), &v[1]);
    assert_ptr_equal(hmap_get(m, "a", 1), &v[2]);
    assert_ptr_equal(hmap_get(m, "a\0", 2), &v[3]);
    assert_ptr_equal(hmap_get(m, "", 0), &v[4]);
    assert_ptr_equal(hmap_get(m, "\0\0\0", 3), &v[5]);
    assert_null(hmap_get(m, "\0\0", 2));
    assert_null(hmap_get(m, "a\0d", 3));
    /* the length is part of the key: "ab" cut to 1 byte is "a" */
    assert_ptr_equal(hmap_get(m, "ab", 1), &v[2]);

    assert_ptr_equal(hmap_del(m, "a\0", 2), &v[3]);
    assert_ptr_equal(hmap_get(m, "a", 1), &v[2]);
    assert_ptr_equal(hmap_get(m, "a\0b", 3), &v[0]);
    assert_ptr_equal(hmap_del(m, "", 0), &v[4]);
    assert_null(hmap_get(m, "", 0));
    assert_int_equal(m->count, 4);
}

static void test_hmap_key_is_copied(void **state)
{
    struct hmap *m = *state;
    char key[8] = "room1";
    int v;

    assert_int_equal(hmap_put(m, key, 5, &v), 0);
    memcpy(key, "XXXXX", 5);
    assert_null(hmap_get(m, key, 5));
    assert_ptr_equal(hmap_get(m, "room1", 5), &v);
}

/* The home slot of a key in a 16-slot table: where it lands when it is alone in one. */
static size_t home_in_16(const char *key)
{
    struct hmap scratch;
    size_t home = SIZE_MAX;

    hmap_init(&scratch);
    assert_int_equal(hmap_put(&scratch, key, strlen(key), NULL), 0);
    assert_int_equal(scratch.cap, 16);
    for (size_t i = 0; i < scratch.cap; i++)
        if (scratch.slots[i].key)
            home = i;
    hmap_destroy(&scratch);
    assert_true(home < 16);
    return home;
}

/* Finds `n` keys "w<number>" whose home slot in a 16-slot table is `home`. */
static void keys_with_home(size_t home, char (*keys)[16], int n)
{
    int found = 0;

    for (int i = 0; found < n && i < 100000; i++) {
        snprintf(keys[found], sizeof(keys[found]), "w%d", i);
        if (home_in_16(keys[found]) == home)
            found++;
    }
    assert_int_equal(found, n);
}

/* A probe run that wraps past the end of the table: deleting its head must shift the
 * entries stored at slots 0, 1, 2 back across the wrap, or they can no longer be found. */
static void test_hmap_backward_shift_across_wrap(void **state)
{
    struct hmap *m = *state;
    char last[3][16], first[1][16];
    int v[4];

    keys_with_home(15, last, 3);
    keys_with_home(0, first, 1);
    assert_int_equal(hmap_put(m, last[0], strlen(last[0]), &v[0]), 0);
    assert_int_equal(hmap_put(m, last[1], strlen(last[1]), &v[1]), 0);
    assert_int_equal(hmap_put(m, last[2], strlen(last[2]), &v[2]), 0);
    assert_int_equal(hmap_put(m, first[0], strlen(first[0]), &v[3]), 0);
    /* the layout this test is about: slots 15, 0, 1, 2 */
    assert_int_equal(m->cap, 16);
    assert_ptr_equal(m->slots[15].val, &v[0]);
    assert_ptr_equal(m->slots[0].val, &v[1]);
    assert_ptr_equal(m->slots[1].val, &v[2]);
    assert_ptr_equal(m->slots[2].val, &v[3]);

    assert_ptr_equal(hmap_del(m, last[0], strlen(last[0])), &v[0]);
    assert_null(get_s(m, last[0]));
    assert_ptr_equal(get_s(m, last[1]), &v[1]);
    assert_ptr_equal(get_s(m, last[2]), &v[2]);
    assert_ptr_equal(get_s(m, first[0]), &v[3]);

    assert_ptr_equal(hmap_del(m, last[1], strlen(last[1])), &v[1]);
    assert_ptr_equal(get_s(m, last[2]), &v[2]);
    assert_ptr_equal(get_s(m, first[0]), &v[3]);

    /* an entry at home stays put when the hole is before it in the wrapped run */
    assert_int_equal(hmap_put(m, last[0], strlen(last[0]), &v[0]), 0);
    assert_ptr_equal(hmap_del(m, last[2], strlen(last[2])), &v[2]);
    assert_ptr_equal(get_s(m, last[0]), &v[0]);
    assert_ptr_equal(get_s(m, first[0]), &v[3]);
    assert_int_equal(m->count, 2);
}

#define NKEYS 10000

static void test_hmap_many_keys_every_other_deleted(void **state)
{
    struct hmap *m = *state;
    static int vals[NKEYS];
    char key[32];
    int n;

    for (int i = 0; i < NKEYS; i++) {
        n = snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(hmap_put(m, key, (size_t)n, &vals[i]), 0);
        assert_int_equal(m->count, (size_t)i + 1);
    }
    /* the load stays at most one half */
    assert_true(m->cap >= 2 * NKEYS);
    assert_int_equal(m->cap & (m->cap - 1), 0);
    for (int i = 0; i < NKEYS; i++) {
        n = snprintf(key, sizeof(key), "key-%d", i);
        assert_ptr_equal(hmap_get(m, key, (size_t)n), &vals[i]);
    }

    for (int i = 0; i < NKEYS; i += 2) {
        n = snprintf(key, sizeof(key), "key-%d", i);
        assert_ptr_equal(hmap_del(m, key, (size_t)n), &vals[i]);
    }
    assert_int_equal(m->count, NKEYS / 2);

    for (int i = 0; i < NKEYS; i++) {
        n = snprintf(key, sizeof(key), "key-%d", i);
        if (i % 2)
            assert_ptr_equal(hmap_get(m, key, (size_t)n), &vals[i]);
        else
            assert_null(hmap_get(m, key, (size_t)n));
    }

    for (int i = 1; i < NKEYS; i += 2) {
        n = snprintf(key, sizeof(key), "key-%d", i);
        assert_ptr_equal(hmap_del(m, key, (size_t)n), &vals[i]);
    }
    assert_int_equal(m->count, 0);
    for (size_t i = 0; i < m->cap; i++)
        assert_null(m->slots[i].key);
}

/* xorshift64: a fixed sequence, so a failure reproduces */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define UNIVERSE_MAX 300

/* Random puts and deletes over `universe` keys, checked against a reference table after every
 * step: long probe runs, wrap-around at the table's end and backward shifts all happen. */
static void churn(struct hmap *m, int universe, int steps, uint64_t seed)
{
    static int vals[UNIVERSE_MAX][2];
    int *ref[UNIVERSE_MAX] = {0};
    size_t live = 0;
    char key[16];

    assert_true(universe <= UNIVERSE_MAX);
    for (int step = 0; step < steps; step++) {
        uint64_t r = next_rand(&seed);
        int k = (int)(r % (uint64_t)universe);
        int n = snprintf(key, sizeof(key), "u%d", k);

        if ((r >> 32) % 3) {
            int *v = &vals[k][step & 1];
            assert_int_equal(hmap_put(m, key, (size_t)n, v), 0);
            if (!ref[k])
                live++;
            ref[k] = v;
        } else {
            assert_ptr_equal(hmap_del(m, key, (size_t)n), ref[k]);
            if (ref[k])
                live--;
            ref[k] = NULL;
        }
        assert_int_equal(m->count, live);
        if (universe < 20 || step % 500 == 0 || step > steps - 500) {
            for (int i = 0; i < universe; i++) {
                n = snprintf(key, sizeof(key), "u%d", i);
                assert_ptr_equal(hmap_get(m, key, (size_t)n), ref[i]);
            }
        }
    }
}

static void test_hmap_churn_small_table(void **state)
{
    churn(*state, 10, 20000, 0x9e3779b97f4a7c15ULL);
}

static void test_hmap_churn_large_table(void **state)
{
    churn(*state, UNIVERSE_MAX, 60000, 0x2545f4914f6cdd1dULL);
}

static void test_hmap_destroy_then_reuse(void **state)
{
    struct hmap *m = *state;
    int v;

    for (int i = 0; i < 100; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "%d", i);
        assert_int_equal(hmap_put(m, key, (size_t)n, &v), 0);
    }
    hmap_destroy(m);
    assert_int_equal(m->count, 0);
    assert_int_equal(m->cap, 0);
    assert_null(get_s(m, "1"));
    assert_null(hmap_del(m, "1", 1));
    assert_int_equal(hmap_put(m, "1", 1, &v), 0);
    assert_ptr_equal(get_s(m, "1"), &v);
    assert_int_equal(m->count, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_map, teardown_map)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hmap_empty),
        T(test_hmap_put_get),
        T(test_hmap_replace_keeps_count),
        T(test_hmap_del),
        T(test_hmap_binary_keys),
        T(test_hmap_key_is_copied),
        T(test_hmap_backward_shift_across_wrap),
        T(test_hmap_many_keys_every_other_deleted),
        T(test_hmap_churn_small_table),
        T(test_hmap_churn_large_table),
        T(test_hmap_destroy_then_reuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
