/* keepalive.c: deadlines in arrival order, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keepalive.h"

#define NENT 4

/* What keepalive_expire asked for, in order. */
struct log {
    struct keepalive_entry *e[16];
    enum keepalive_action what[16];
    int n;
    bool extend; /* the answer to KEEPALIVE_SIGNIN_EXPIRED */
};

static bool record(struct keepalive_entry *e, enum keepalive_action what, void *arg)
{
    struct log *l = arg;

    assert_true(l->n < 16);
    l->e[l->n] = e;
    l->what[l->n++] = what;
    return what == KEEPALIVE_SIGNIN_EXPIRED && l->extend;
}

static void expect(struct log *l, int i, struct keepalive_entry *e, enum keepalive_action what)
{
    assert_true(i < l->n);
    assert_ptr_equal(l->e[i], e);
    assert_int_equal(l->what[i], what);
}

static void test_signin_deadline_in_arrival_order(void **state)
{
    struct keepalive ka;
    struct keepalive_entry e[NENT];
    struct log l = {0};

    (void)state;
    keepalive_init(&ka, 10, 30, 60);
    assert_int_equal(keepalive_next(&ka), -1);
    keepalive_add(&ka, &e[0], 1000);
    keepalive_add(&ka, &e[1], 2000);
    keepalive_add(&ka, &e[2], 3000);
    assert_int_equal(keepalive_next(&ka), 11000);
    keepalive_signed_in(&e[1]);

    keepalive_expire(&ka, 10999, record, &l);
    assert_int_equal(l.n, 0);
    keepalive_expire(&ka, 13000, record, &l); /* e[1] signed in: not expired */
    assert_int_equal(l.n, 2);
    expect(&l, 0, &e[0], KEEPALIVE_SIGNIN_EXPIRED);
    expect(&l, 1, &e[2], KEEPALIVE_SIGNIN_EXPIRED);
    assert_int_equal(keepalive_next(&ka), 31000); /* now only the ping of e[0] */
}

static void test_signin_extended_while_pending(void **state)
{
    struct keepalive ka;
    struct keepalive_entry e;
    struct log l = {.extend = true};

    (void)state;
    keepalive_init(&ka, 10, 30, 60);
    keepalive_add(&ka, &e, 0);
    keepalive_expire(&ka, 10000, record, &l);
    expect(&l, 0, &e, KEEPALIVE_SIGNIN_EXPIRED);
    assert_int_equal(keepalive_next(&ka), 20000); /* a whole new period */
    l.extend = false;
    keepalive_expire(&ka, 20000, record, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(keepalive_next(&ka), 30000);
}

static void test_silence_pings_then_drops_and_frames_reset_it(void **state)
{
    struct keepalive ka;
    struct keepalive_entry e[NENT];
    struct log l = {0};

    (void)state;
    keepalive_init(&ka, 10, 30, 60);
    for (int i = 0; i < 3; i++) {
        keepalive_add(&ka, &e[i], i * 1000);
        keepalive_signed_in(&e[i]);
    }
    keepalive_heard(&ka, &e[0], 5000); /* e[0] is now the latest heard */
    assert_int_equal(keepalive_next(&ka), 31000);

    keepalive_expire(&ka, 32000, record, &l);
    assert_int_equal(l.n, 2);
    expect(&l, 0, &e[1], KEEPALIVE_PING);
    expect(&l, 1, &e[2], KEEPALIVE_PING);
    assert_int_equal(keepalive_next(&ka), 35000); /* e[0]'s ping */

    /* e[2] answers its ping; e[1] does not */
    keepalive_heard(&ka, &e[2], 40000);
    keepalive_expire(&ka, 61000, record, &l);
    assert_int_equal(l.n, 4);
    expect(&l, 2, &e[1], KEEPALIVE_DROP); /* drops are handled first */
    expect(&l, 3, &e[0], KEEPALIVE_PING);
    keepalive_expire(&ka, 64999, record, &l);
    assert_int_equal(l.n, 4);
    keepalive_expire(&ka, 65000, record, &l);
    expect(&l, 4, &e[0], KEEPALIVE_DROP); /* heard at 5000, idle 60 s */
    /* e[1] was removed when dropped: a late frame from it changes nothing */
    keepalive_heard(&ka, &e[1], 65000);
    assert_int_equal(keepalive_next(&ka), 70000); /* only e[2]: its ping */
}

static void test_remove_forgets_every_deadline(void **state)
{
    struct keepalive ka;
    struct keepalive_entry e[2];
    struct log l = {0};

    (void)state;
    keepalive_init(&ka, 10, 30, 60);
    keepalive_add(&ka, &e[0], 0);
    keepalive_add(&ka, &e[1], 0);
    keepalive_remove(&e[0]);
    keepalive_remove(&e[0]); /* twice is harmless */
    keepalive_expire(&ka, 100000, record, &l);
    assert_int_equal(l.n, 2); /* e[1] only: its sign-in, then its ping */
    expect(&l, 0, &e[1], KEEPALIVE_SIGNIN_EXPIRED);
    expect(&l, 1, &e[1], KEEPALIVE_PING);
    /* a tick that came late: the drop is due at once, in the next turn */
    assert_int_equal(keepalive_next(&ka), 60000);
    keepalive_expire(&ka, 100000, record, &l);
    expect(&l, 2, &e[1], KEEPALIVE_DROP);
    assert_int_equal(keepalive_next(&ka), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signin_deadline_in_arrival_order),
        cmocka_unit_test(test_signin_extended_while_pending),
        cmocka_unit_test(test_silence_pings_then_drops_and_frames_reset_it),
        cmocka_unit_test(test_remove_forgets_every_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
