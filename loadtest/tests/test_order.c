/*
 * Unit tests for loadtest/order.c, the cluster order check: members who see one room's chat in
 * the same order with no gap pass; a repeat or a step back is a violation, a skipped seq a gap,
 * the same seq with another message a mismatch (whoever saw it first); rooms are apart; the
 * table keeps every seq across its growth. One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "order.h"

static uint64_t fp(const char *from, const char *text)
{
    return order_fingerprint(from, strlen(from), text, strlen(text));
}

/* The message the test says was given seq `seq` in room `room`. */
static uint64_t msg(uint32_t room, int64_t seq)
{
    char from[32], text[32];

    snprintf(from, sizeof(from), "p%u", (unsigned)(seq % 7));
    snprintf(text, sizeof(text), "r%u m%lld", (unsigned)room, (long long)seq);
    return fp(from, text);
}

static void test_order_fingerprint_tells_sender_and_text_apart(void **state)
{
    assert_int_equal(fp("ann", "hi"), fp("ann", "hi"));
    assert_true(fp("ann", "hi") != fp("bob", "hi"));
    assert_true(fp("ann", "hi") != fp("ann", "ho"));
    assert_true(fp("an", "nhi") != fp("ann", "hi")); /* the split between them counts */
}

static void test_order_same_order_for_everyone_passes(void **state)
{
    struct order_check oc = {0};
    struct order_member m[5] = {{0}};

    /* members start listening at different seqs (joined later), then go on in step */
    for (int64_t seq = 10; seq < 3000; seq++)
        for (int k = 0; k < 5; k++)
            if (seq >= 10 + 100 * k)
                assert_int_equal(order_see(&oc, &m[k], 0, seq, msg(0, seq)), ORDER_OK);
    assert_int_equal(oc.violations + oc.gaps + oc.mismatches, 0);
    assert_int_equal(oc.checked, 5 * 2990 - 100 * (1 + 2 + 3 + 4));
    assert_int_equal(m[4].last_seq, 2999);
    order_free(&oc);
}

static void test_order_repeat_and_step_back_are_violations(void **state)
{
    struct order_check oc = {0};
    struct order_member m = {0};

    assert_int_equal(order_see(&oc, &m, 0, 5, msg(0, 5)), ORDER_OK);
    assert_int_equal(order_see(&oc, &m, 0, 6, msg(0, 6)), ORDER_OK);
    assert_int_equal(order_see(&oc, &m, 0, 6, msg(0, 6)), ORDER_VIOLATION); /* twice */
    assert_int_equal(order_see(&oc, &m, 0, 4, msg(0, 4)), ORDER_VIOLATION); /* back */
    assert_int_equal(m.last_seq, 6); /* a violation does not move the member */
    assert_int_equal(order_see(&oc, &m, 0, 7, msg(0, 7)), ORDER_OK);
    assert_int_equal(oc.violations, 2);
    assert_int_equal(oc.gaps, 0);
    assert_int_equal(oc.mismatches, 0);
    assert_int_equal(oc.checked, 5);
    order_free(&oc);
}

static void test_order_skipped_seq_is_a_gap(void **state)
{
    struct order_check oc = {0};
    struct order_member a = {0}, b = {0};

    for (int64_t seq = 1; seq <= 4; seq++)
        assert_int_equal(order_see(&oc, &a, 0, seq, msg(0, seq)), ORDER_OK);
    assert_int_equal(order_see(&oc, &b, 0, 1, msg(0, 1)), ORDER_OK);
    assert_int_equal(order_see(&oc, &b, 0, 4, msg(0, 4)), ORDER_GAP); /* 2 and 3 never came */
    assert_int_equal(order_see(&oc, &b, 0, 5, msg(0, 5)), ORDER_OK);  /* in step again */
    assert_int_equal(oc.gaps, 1);
    assert_int_equal(oc.violations + oc.mismatches, 0);
    order_free(&oc);
}

static void test_order_same_seq_other_message_is_a_mismatch(void **state)
{
    struct order_check oc = {0};
    struct order_member a = {0}, b = {0}, c = {0};

    assert_int_equal(order_see(&oc, &a, 3, 1, fp("ann", "one")), ORDER_OK);
    assert_int_equal(order_see(&oc, &a, 3, 2, fp("bob", "two")), ORDER_OK);
    /* b was told seq 2 is ann's "one" and 1 is bob's "two": swapped by a node */
    assert_int_equal(order_see(&oc, &b, 3, 1, fp("bob", "two")), ORDER_MISMATCH);
    assert_int_equal(order_see(&oc, &b, 3, 2, fp("ann", "one")), ORDER_MISMATCH);
    /* the same text from another sender is another message */
    assert_int_equal(order_see(&oc, &c, 3, 1, fp("cat", "one")), ORDER_MISMATCH);
    assert_int_equal(order_see(&oc, &c, 3, 2, fp("bob", "two")), ORDER_OK);
    /* c skips seq 3 and is the first to see 4; a then skips 3 too and is told 4 is another
     * message: a gap and a mismatch at once count as both */
    assert_int_equal(order_see(&oc, &c, 3, 4, fp("x", "y")), ORDER_GAP);
    assert_int_equal(order_see(&oc, &a, 3, 4, fp("z", "w")), ORDER_MISMATCH);
    assert_int_equal(oc.mismatches, 4);
    assert_int_equal(oc.gaps, 2);
    assert_int_equal(oc.violations, 0);
    order_free(&oc);
}

static void test_order_rooms_are_apart(void **state)
{
    struct order_check oc = {0};
    struct order_member in_a = {0}, in_b = {0};

    /* seq 1..100 in two rooms with different messages: no mismatch across rooms */
    for (int64_t seq = 1; seq <= 100; seq++) {
        assert_int_equal(order_see(&oc, &in_a, 1, seq, msg(1, seq)), ORDER_OK);
        assert_int_equal(order_see(&oc, &in_b, 2, seq, msg(2, seq)), ORDER_OK);
    }
    assert_int_equal(oc.mismatches + oc.gaps + oc.violations, 0);
    order_free(&oc);
}

static void test_order_table_keeps_every_seq_across_growth(void **state)
{
    struct order_check oc = {0};
    struct order_member first = {0}, late = {0};
    enum { N = 20000 }; /* past the first table (1024 slots) several times */

    for (int64_t seq = 1; seq <= N; seq++)
        assert_int_equal(order_see(&oc, &first, 7, seq, msg(7, seq)), ORDER_OK);
    assert_true(oc.cap >= 2 * N);
    /* a member who reads the whole room afterwards finds every seq's message still known */
    for (int64_t seq = 1; seq <= N; seq++)
        assert_int_equal(order_see(&oc, &late, 7, seq, msg(7, seq)), ORDER_OK);
    assert_int_equal(order_see(&oc, &(struct order_member){0}, 7, N / 2, msg(7, N / 2 + 1)),
                     ORDER_MISMATCH);
    assert_int_equal(oc.used, N);
    order_free(&oc);
    assert_null(oc.slots);
    assert_int_equal(order_see(&oc, &(struct order_member){0}, 0, 1, 1), ORDER_OK); /* reusable */
    order_free(&oc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_fingerprint_tells_sender_and_text_apart),
        cmocka_unit_test(test_order_same_order_for_everyone_passes),
        cmocka_unit_test(test_order_repeat_and_step_back_are_violations),
        cmocka_unit_test(test_order_skipped_seq_is_a_gap),
        cmocka_unit_test(test_order_same_seq_other_message_is_a_mismatch),
        cmocka_unit_test(test_order_rooms_are_apart),
        cmocka_unit_test(test_order_table_keeps_every_seq_across_growth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
