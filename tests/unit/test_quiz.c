/*
 * Tests for the quiz rules (server/rules/quiz.c) with a fake clock: scoring arithmetic, deadlines,
 * early reveal when everyone has answered, late, repeated and out-of-round answers, watchers,
 * players who leave, players known by seat rather than name, standings with ties, and the end
 * of the game.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quiz.h"

static struct quiz_question q1 = {.text = "one?", .correct = 2};
static struct quiz_question q2 = {.text = "two?", .correct = 0};
static const struct quiz_question *qs[] = {&q1, &q2};
/* seats (the server's session ids), deliberately unlike the order of names */
enum { ANN = 31, BOB = 17, CID = 42, DAN = 5, ANN2 = 77 };
static const uint64_t seats[] = {ANN, BOB, CID};
static const char *const names[] = {"ann", "bob", "cid"};
static const int64_t uids[] = {7, 0, 9};

#define T0 1000000 /* the fake clock when the game starts */

static int setup(void **state)
{
    static struct quiz q;

    memset(&q, 0, sizeof(q));
    if (quiz_begin(&q, 2, 10, qs, seats, names, uids, 3, T0))
        return -1;
    *state = &q;
    return 0;
}

static int teardown(void **state)
{
    quiz_end(*state);
    return 0;
}

static void test_quiz_points_arithmetic(void **state)
{
    /* 10 s questions: 100 for being right plus up to 100 for the time left */
    assert_int_equal(quiz_points(true, 20000, 10000, 10), 200); /* answered at once */
    assert_int_equal(quiz_points(true, 20000, 15000, 10), 150); /* half the time left */
    assert_int_equal(quiz_points(true, 20000, 19999, 10), 100); /* floor(0.01) */
    assert_int_equal(quiz_points(true, 20000, 17501, 10), 124); /* floor(24.99) */
    assert_int_equal(quiz_points(false, 20000, 10000, 10), 0);  /* wrong scores nothing */
    assert_int_equal(quiz_points(true, 20000, 25000, 10), 100); /* never below the base */
    assert_int_equal(quiz_points(true, 20000, 5000, 10), 200);  /* never above the top */
}

static void test_quiz_begin_opens_round_one(void **state)
{
    struct quiz *q = *state;

    assert_int_equal(q->phase, QUIZ_QUESTION);
    assert_int_equal(q->round, 1);
    assert_int_equal(q->deadline_ms, T0 + 10000);
    assert_int_equal(q->nplayers, 3);
    assert_int_equal(q->players[0].user_id, 7);
    assert_int_equal(quiz_present(q), 3);
    assert_false(quiz_all_answered(q));
}

static void test_quiz_answers_late_twice_wrong_round_and_watchers(void **state)
{
    struct quiz *q = *state;

    assert_int_equal(quiz_answer(q, DAN, 1, 0, T0 + 1), QUIZ_ANSWER_NOT_PLAYER);
    assert_int_equal(quiz_answer(q, ANN, 2, 0, T0 + 1), QUIZ_ANSWER_WRONG_ROUND);
    assert_int_equal(quiz_answer(q, ANN, 1, 2, T0 + 1000), QUIZ_ANSWER_OK);
    assert_int_equal(quiz_answer(q, ANN, 1, 1, T0 + 2000), QUIZ_ANSWER_TWICE);
    assert_int_equal(q->players[0].choice, 2); /* the first answer stands */
    assert_int_equal(quiz_answer(q, BOB, 1, 2, T0 + 10000), QUIZ_ANSWER_LATE); /* at deadline */
    assert_int_equal(quiz_answer(q, BOB, 1, 2, T0 + 9999), QUIZ_ANSWER_OK);
    quiz_reveal(q);
    assert_int_equal(quiz_answer(q, CID, 1, 2, T0 + 9999), QUIZ_ANSWER_NO_GAME);
}

static void test_quiz_everyone_answered_reveals_early_and_scores(void **state)
{
    struct quiz *q = *state;

    assert_int_equal(quiz_answer(q, ANN, 1, 2, T0 + 2000), QUIZ_ANSWER_OK); /* right, fast */
    assert_int_equal(quiz_answer(q, BOB, 1, 1, T0 + 3000), QUIZ_ANSWER_OK); /* wrong */
    assert_false(quiz_all_answered(q));
    assert_int_equal(quiz_answer(q, CID, 1, 2, T0 + 6000), QUIZ_ANSWER_OK); /* right, slower */
    assert_true(quiz_all_answered(q));
    quiz_reveal(q);
    assert_int_equal(q->phase, QUIZ_REVEAL);
    assert_int_equal(q->players[0].delta, 180);
    assert_int_equal(q->players[1].delta, 0);
    assert_int_equal(q->players[2].delta, 140);
    assert_int_equal(q->players[0].score, 180);
}

static void test_quiz_timeout_scores_silence_as_zero_and_moves_on(void **state)
{
    struct quiz *q = *state;

    assert_int_equal(quiz_answer(q, ANN, 1, 2, T0 + 5000), QUIZ_ANSWER_OK);
    quiz_reveal(q); /* the deadline passed: bob and cid never answered */
    assert_int_equal(q->players[1].delta, 0);
    assert_int_equal(q->players[2].delta, 0);
    assert_int_equal(q->players[0].score, 150);

    assert_true(quiz_next(q, T0 + 13000));
    assert_int_equal(q->round, 2);
    assert_int_equal(q->phase, QUIZ_QUESTION);
    assert_int_equal(q->deadline_ms, T0 + 23000);
    assert_int_equal(q->players[0].choice, -1); /* answers reset for the new round */
    assert_int_equal(quiz_answer(q, ANN, 2, 0, T0 + 13000), QUIZ_ANSWER_OK);
    quiz_reveal(q);
    assert_int_equal(q->players[0].score, 350);
    assert_false(quiz_next(q, T0 + 30000)); /* that was the last round */
    assert_int_equal(q->phase, QUIZ_IDLE);
}

static void test_quiz_a_player_who_left_is_not_waited_for(void **state)
{
    struct quiz *q = *state;

    assert_int_equal(quiz_answer(q, ANN, 1, 0, T0 + 1000), QUIZ_ANSWER_OK);
    assert_int_equal(quiz_answer(q, BOB, 1, 0, T0 + 1000), QUIZ_ANSWER_OK);
    assert_false(quiz_all_answered(q));
    quiz_player_left(q, CID);
    assert_int_equal(quiz_present(q), 2);
    assert_true(quiz_all_answered(q));
    quiz_player_left(q, DAN); /* not a player: no-op */
    assert_int_equal(quiz_present(q), 2);
}

static void test_quiz_players_are_seats_not_names(void **state)
{
    struct quiz *q = *state;

    /* ann leaves; someone in another seat comes back under her name: a watcher */
    quiz_player_left(q, ANN);
    assert_int_equal(quiz_answer(q, ANN2, 1, 2, T0 + 1000), QUIZ_ANSWER_NOT_PLAYER);
    /* and ann's own seat, back in the room, only watches too */
    assert_int_equal(quiz_answer(q, ANN, 1, 2, T0 + 1000), QUIZ_ANSWER_NOT_PLAYER);
    assert_int_equal(q->players[0].choice, -1);
    assert_int_equal(q->players[0].score, 0);
    assert_int_equal(quiz_present(q), 2);

    /* a seat nobody sits in is no player */
    assert_int_equal(quiz_answer(q, 99, 1, 2, T0 + 1000), QUIZ_ANSWER_NOT_PLAYER);
    assert_int_equal(quiz_player_index(q, 99), -1);
    assert_int_equal(quiz_answer(q, BOB, 1, 2, T0 + 1000), QUIZ_ANSWER_OK);
    assert_false(quiz_all_answered(q)); /* cid is still present */
    assert_int_equal(quiz_answer(q, CID, 1, 2, T0 + 1000), QUIZ_ANSWER_OK);
    assert_true(quiz_all_answered(q));
}

static void test_quiz_standings_order_and_shared_ranks(void **state)
{
    struct quiz *q = *state;
    int order[3], rank[3];

    q->players[0].score = 150; /* ann */
    q->players[1].score = 300; /* bob */
    q->players[2].score = 150; /* cid */
    quiz_standings(q, order, rank);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0); /* ties by name: ann before cid */
    assert_int_equal(order[2], 2);
    assert_int_equal(rank[0], 1);
    assert_int_equal(rank[1], 2);
    assert_int_equal(rank[2], 2); /* equal scores share a rank */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiz_points_arithmetic),
        cmocka_unit_test_setup_teardown(test_quiz_begin_opens_round_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiz_answers_late_twice_wrong_round_and_watchers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiz_everyone_answered_reveals_early_and_scores, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quiz_timeout_scores_silence_as_zero_and_moves_on,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiz_a_player_who_left_is_not_waited_for, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quiz_players_are_seats_not_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiz_standings_order_and_shared_ranks, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
