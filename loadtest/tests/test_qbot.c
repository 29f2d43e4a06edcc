/*
 * Unit tests for loadtest/qbot.c, the quiz scenario's bookkeeping: a bot following a game's
 * events counts exactly the events it missed (a skipped question, a lost reveal, a game_over
 * that never came before the next game_started) and ignores repeats; it answers each round at
 * most once and only while the question is open; answer delays stay inside the first three
 * quarters of the question time; the clock offset from `ping` is applied only when it is larger
 * than its error, and the question lag comes out right on one clock and on two. One thread, run
 * by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qbot.h"

#define MS 1000000LL

static void test_qbot_clean_game(void **state)
{
    struct qbot b;

    qbot_init(&b, 3);
    assert_false(qbot_playing(&b));
    assert_int_equal(qbot_owed(&b), 0);
    assert_int_equal(qbot_event(&b, QBOT_GAME_STARTED, 0, 3), 0);
    assert_true(qbot_playing(&b));
    assert_int_equal(qbot_owed(&b), 7); /* 3 questions, 3 reveals, game_over */
    for (int k = 1; k <= 3; k++) {
        assert_int_equal(qbot_event(&b, QBOT_QUESTION, k, 3), 0);
        assert_int_equal(qbot_event(&b, QBOT_REVEAL, k, 0), 0);
    }
    assert_int_equal(qbot_owed(&b), 1);
    assert_int_equal(qbot_event(&b, QBOT_GAME_OVER, 0, 0), 0);
    assert_false(qbot_playing(&b));
    assert_int_equal(qbot_owed(&b), 0);
    /* and the next game starts clean */
    assert_int_equal(qbot_event(&b, QBOT_GAME_STARTED, 0, 3), 0);
    assert_int_equal(b.started, 2);
}

static void test_qbot_counts_missed_events(void **state)
{
    struct qbot b;

    qbot_init(&b, 3);
    assert_int_equal(qbot_event(&b, QBOT_GAME_STARTED, 0, 3), 0);
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 1, 3), 0);
    assert_int_equal(qbot_event(&b, QBOT_REVEAL, 1, 0), 0);
    /* question 2 lost */
    assert_int_equal(qbot_event(&b, QBOT_REVEAL, 2, 0), 1);
    /* reveal 3 and game_over lost: the next game_started owes them */
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 3, 3), 0);
    assert_int_equal(qbot_event(&b, QBOT_GAME_STARTED, 0, 2), 2);
    assert_int_equal(b.rounds, 2); /* the new game says how long it is */
    assert_int_equal(qbot_owed(&b), 5);
    /* everything but game_over lost */
    assert_int_equal(qbot_event(&b, QBOT_GAME_OVER, 0, 0), 4);
    assert_false(qbot_playing(&b));
}

static void test_qbot_game_without_its_start(void **state)
{
    struct qbot b;

    qbot_init(&b, 3);
    /* game_started lost: the question still counts, and says how many rounds */
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 1, 5), 1);
    assert_true(qbot_playing(&b));
    assert_int_equal(b.rounds, 5);
    assert_int_equal(qbot_owed(&b), 10);
    /* a game_over out of nowhere: every event of the game before it was lost */
    qbot_init(&b, 2);
    assert_int_equal(qbot_event(&b, QBOT_GAME_OVER, 0, 0), 5);
    assert_false(qbot_playing(&b));
}

static void test_qbot_repeats_are_not_losses(void **state)
{
    struct qbot b;

    qbot_init(&b, 3);
    assert_int_equal(qbot_event(&b, QBOT_GAME_STARTED, 0, 3), 0);
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 1, 3), 0);
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 1, 3), -1);
    assert_int_equal(qbot_event(&b, QBOT_REVEAL, 1, 0), 0);
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 1, 3), -1); /* goes back */
    assert_int_equal(qbot_event(&b, QBOT_REVEAL, 0, 0), -1);   /* no round 0 */
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 4, 3), -1); /* past the last round */
    assert_int_equal(qbot_owed(&b), 5);                        /* nothing moved */
    assert_int_equal(qbot_event(&b, QBOT_QUESTION, 2, 3), 0);
}

static void test_qbot_answers_once_while_open(void **state)
{
    struct qbot b;

    qbot_init(&b, 2);
    assert_false(qbot_take_answer(&b, 1)); /* no game */
    qbot_event(&b, QBOT_GAME_STARTED, 0, 2);
    assert_false(qbot_take_answer(&b, 1)); /* no question yet */
    qbot_event(&b, QBOT_QUESTION, 1, 2);
    assert_false(qbot_take_answer(&b, 2)); /* not the open round */
    assert_true(qbot_take_answer(&b, 1));
    assert_false(qbot_take_answer(&b, 1)); /* at most once */
    qbot_event(&b, QBOT_REVEAL, 1, 0);
    qbot_event(&b, QBOT_QUESTION, 2, 2);
    qbot_event(&b, QBOT_REVEAL, 2, 0);
    assert_false(qbot_take_answer(&b, 2)); /* revealed before the bot's turn came */
    qbot_event(&b, QBOT_GAME_OVER, 0, 0);
    qbot_event(&b, QBOT_GAME_STARTED, 0, 2);
    qbot_event(&b, QBOT_QUESTION, 1, 2);
    assert_true(qbot_take_answer(&b, 1)); /* a new game answers round 1 again */
}

static void test_qbot_abandon(void **state)
{
    struct qbot b;

    qbot_init(&b, 3);
    assert_int_equal(qbot_abandon(&b), 0);
    qbot_event(&b, QBOT_GAME_STARTED, 0, 3);
    qbot_event(&b, QBOT_QUESTION, 1, 3);
    assert_int_equal(qbot_abandon(&b), 6);
    assert_false(qbot_playing(&b));
    assert_int_equal(qbot_abandon(&b), 0);
}

static void test_qbot_delays_and_choices(void **state)
{
    uint64_t rng = 42, min = UINT64_MAX, max = 0;
    long double sum = 0;
    int hits[4] = {0, 0, 0, 0};
    const int n = 20000;

    for (int i = 0; i < n; i++) {
        int64_t d = qbot_answer_delay_ns(qbot_rand(&rng), 2);
        assert_true(d >= 0 && d < 1500 * MS);
        if ((uint64_t)d < min)
            min = (uint64_t)d;
        if ((uint64_t)d > max)
            max = (uint64_t)d;
        sum += d;
        hits[qbot_rand(&rng) % 4]++;
    }
    /* uniform over [0, 1.5 s): the extremes are reached and the mean is near the middle */
    assert_true(min < 5 * MS);
    assert_true(max > 1495 * MS);
    assert_true(sum / n > 725 * MS && sum / n < 775 * MS);
    for (int k = 0; k < 4; k++)
        assert_true(hits[k] > n / 4 - n / 20 && hits[k] < n / 4 + n / 20);
    assert_int_equal(qbot_answer_delay_ns(12345, 0), 0);
    assert_true(rng != 0);
}

static void test_qbot_clock(void **state)
{
    struct qbot_clock c;
    const int64_t t = 1795400000000LL * MS; /* local CLOCK_REALTIME, ns */

    qbot_clock_init(&c);
    assert_int_equal(qbot_clock_correction(&c), 0);
    /* one clock: a 0.4 ms round trip around server ms 1795400000000 */
    qbot_clock_sample(&c, t - 200000, t + 200000, 1795400000000LL);
    assert_int_equal(c.samples, 1);
    assert_true(c.error_ns > 500000 && c.error_ns < 800000);
    assert_int_equal(qbot_clock_correction(&c), 0); /* 0.5 ms off, within its error */

    /* a server 80 ms ahead, seen through a 10 ms round trip, then a 2 ms one */
    qbot_clock_init(&c);
    qbot_clock_sample(&c, t, t + 10 * MS, 1795400000080LL + 5);
    assert_true(c.offset_ns > 79 * MS && c.offset_ns < 82 * MS);
    qbot_clock_sample(&c, t + 20 * MS, t + 22 * MS, 1795400000080LL + 21);
    assert_int_equal(c.samples, 2);
    assert_true(c.error_ns < 2 * MS); /* the tighter sample won */
    assert_true(qbot_clock_correction(&c) > 79 * MS && qbot_clock_correction(&c) < 81 * MS);
    /* a worse sample later does not replace it */
    qbot_clock_sample(&c, t + 30 * MS, t + 90 * MS, 1795400000080LL + 60);
    assert_true(c.error_ns < 2 * MS);
    /* a reply before its request (the clock stepped) is ignored */
    qbot_clock_sample(&c, t, t - 1, 1795400000000LL);
    assert_int_equal(c.samples, 3);
}

static void test_qbot_question_lag(void **state)
{
    /* a 2 s question closing at 10,000 ms was opened at 8,000 ms */
    assert_int_equal(qbot_question_lag_ns(8000 * MS + 700000, 10000, 2, 0), 700000);
    /* the server's clock is 50 ms ahead of ours: we read it at 7,950.7 ms local */
    assert_int_equal(qbot_question_lag_ns(7950 * MS + 700000, 10000, 2, 50 * MS), 700000);
    /* and 30 ms behind */
    assert_int_equal(qbot_question_lag_ns(8030 * MS + 250000, 10000, 2, -30 * MS), 250000);
    /* an uncorrected skew never gives a negative lag */
    assert_int_equal(qbot_question_lag_ns(7990 * MS, 10000, 2, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qbot_clean_game),
        cmocka_unit_test(test_qbot_counts_missed_events),
        cmocka_unit_test(test_qbot_game_without_its_start),
        cmocka_unit_test(test_qbot_repeats_are_not_losses),
        cmocka_unit_test(test_qbot_answers_once_while_open),
        cmocka_unit_test(test_qbot_abandon),
        cmocka_unit_test(test_qbot_delays_and_choices),
        cmocka_unit_test(test_qbot_clock),
        cmocka_unit_test(test_qbot_question_lag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
