/*
 * Unit tests for loadtest/report.c: the arithmetic behind every derived figure (rates over the
 * window, lost deliveries, unanswered messages, the error total and what it includes, CPU
 * share, RSS per connection, handshake rate, the baseline check) and the exit code each
 * threshold gives; then that the JSON carries the same figures and the table prints them; and
 * the quiz's figures, its errors, and its failure when no game completed.
 * One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

#define SEC 1000000000LL

static struct report r;

static void assert_close(double got, double want)
{
    double diff = got > want ? got - want : want - got;

    if (diff > 1e-6 * (want < 0 ? -want : want) + 1e-9)
        fail_msg("got %.9f, want %.9f", got, want);
}

/* A clean chat run: 10 s window, 50,000 messages to rooms of 50, everything delivered. */
static void clean_run(void)
{
    report_init(&r);
    r.scenario = "chat";
    r.url = "ws://127.0.0.1:8080/ws";
    r.connections = 5000;
    r.measure_start_ns = 100 * SEC;
    r.measure_end_ns = 110 * SEC;
    r.says_sent = 55000;
    r.says_in_window = 50000;
    r.says_ok = 55000;
    r.says_ok_in_window = 49000;
    r.deliveries_expected = 2750000;
    r.deliveries_received = 2750000;
    r.deliveries_in_window = 2500000;
    r.handshakes = r.signed_in = r.ready = 5000;
    for (int i = 0; i < 1000; i++)
        hist_record(&r.latency, (uint64_t)(i + 1) * 10000); /* 0.01 .. 10 ms */
}

static void test_helpers(void **state)
{
    assert_close(rate_per_sec(250000, SEC), 250000);
    assert_close(rate_per_sec(5, SEC / 2), 10);
    assert_close(rate_per_sec(5, 0), 0);
    assert_close(cpu_pct(SEC / 4, SEC), 25);
    assert_close(cpu_pct(3 * SEC, 2 * SEC), 150);
    assert_close(cpu_pct(1, 0), 0);
    assert_close(ticks_to_ns(250, 100), 2.5e9);
    assert_close(rss_per_conn_kb(10000, 20000, 5000), 2.0);
    assert_close(rss_per_conn_kb(20000, 19000, 1000), -1.0); /* shrinking is reported as such */
    assert_close(rss_per_conn_kb(1, 2, 0), 0);
    assert_close(ns_to_ms(1500000), 1.5);
}

static void test_clean_run(void **state)
{
    struct derived d;

    clean_run();
    report_derive(&r, &d);
    assert_close(d.window_s, 10);
    assert_close(d.deliveries_per_sec, 250000);
    assert_close(d.messages_per_sec, 5000);
    assert_close(d.oks_per_sec, 4900);
    assert_int_equal(d.lost, 0);
    assert_int_equal(d.says_unanswered, 0);
    assert_int_equal(d.errors_total, 0);
    assert_int_equal(d.exit_code, 0);
    assert_true(d.srv_returned); /* not watched: nothing to fail */
}

static void test_losses_and_errors_add_up(void **state)
{
    struct derived d;

    clean_run();
    r.deliveries_received -= 7; /* 7 lost */
    r.says_ok -= 5;             /* 3 rejected, 2 never answered */
    r.says_rejected = 3;
    r.errors_by_code[PROTO_E_RATE_LIMITED] = 3;
    r.fail_by_end[WSC_END_CONNECT] = 2;
    r.fail_by_end[WSC_END_ABORTED] = 1;
    r.fail_by_end[WSC_END_CLOSED] = 99; /* a normal end is not a failure */
    r.unexpected_closes = 4;
    r.seq_gaps = 1;
    r.bad_messages = 1;
    r.unexpected_deliveries = 2;
    r.setup_incomplete = 3;
    r.stuck_at_end = 1;
    report_derive(&r, &d);
    assert_int_equal(d.lost, 7);
    assert_int_equal(d.says_unanswered, 2);
    assert_int_equal(d.connect_failures, 3);
    assert_int_equal(d.protocol_errors, 3);
    assert_int_equal(d.errors_total, 7 + 2 + 3 + 3 + 4 + 1 + 1 + 2 + 3 + 1);
    assert_int_equal(d.exit_code, 0); /* no threshold given */

    r.max_errors = 27;
    report_derive(&r, &d);
    assert_false(d.errors_breached);
    r.max_errors = 26;
    report_derive(&r, &d);
    assert_true(d.errors_breached);
    assert_int_equal(d.exit_code, 1);
}

static void test_more_received_than_expected_is_not_negative_loss(void **state)
{
    struct derived d;

    clean_run();
    r.deliveries_received = r.deliveries_expected + 10;
    r.says_ok = r.says_sent + 1;
    report_derive(&r, &d);
    assert_int_equal(d.lost, 0);
    assert_int_equal(d.says_unanswered, 0);
}

static void test_p99_threshold(void **state)
{
    struct derived d;

    clean_run();
    /* p99 of 0.01..10 ms in steps of 0.01 is 9.9 ms (within the histogram's 0.8%) */
    r.max_p99_ms = 10;
    report_derive(&r, &d);
    assert_false(d.p99_breached);
    r.max_p99_ms = 9.5;
    report_derive(&r, &d);
    assert_true(d.p99_breached);
    assert_int_equal(d.exit_code, 1);
    r.max_p99_ms = 0; /* 0 is a threshold, not "unset" */
    report_derive(&r, &d);
    assert_true(d.p99_breached);
}

static void test_server_figures(void **state)
{
    struct derived d;

    clean_run();
    r.server_pid = 1234;
    r.ticks_per_sec = 100;
    r.srv_cpu_ticks_window = 750; /* 7.5 s of CPU in a 10 s window */
    r.srv_rss_base_kb = 8000;
    r.srv_rss_loaded_kb = 18000;
    r.srv_fds_base = 15;
    r.srv_fds_end = 15;
    r.srv_conns_base = 0;
    r.srv_conns_end = 0;
    r.self_cpu_ns_window = 4 * SEC;
    r.others_ticks_window = 250; /* 2.5 s of other processes' CPU in the 10 s window */
    report_derive(&r, &d);
    assert_close(d.other_cpu_pct, 25);
    assert_close(d.srv_cpu_pct, 75);
    assert_close(d.setup_other_cpu_pct, -1); /* no setup sample: unknown */
    r.first_connect_ns = 90 * SEC;
    r.setup_done_ns = 92 * SEC; /* a 2 s setup */
    r.others_ticks_setup = 150; /* 1.5 s of other processes' CPU */
    report_derive(&r, &d);
    assert_close(d.setup_other_cpu_pct, 75);
    assert_close(d.srv_rss_per_conn_kb, 2.0); /* 10000 KB over 5000 ready clients */
    assert_close(d.self_cpu_pct, 40);
    assert_true(d.srv_returned);

    r.check_baseline = true;
    report_derive(&r, &d);
    assert_int_equal(d.exit_code, 0);
    r.srv_fds_end = 16; /* one descriptor leaked */
    report_derive(&r, &d);
    assert_false(d.srv_returned);
    assert_true(d.baseline_breached);
    assert_int_equal(d.exit_code, 1);
    r.srv_fds_end = 15;
    r.srv_conns_end = 1; /* one connection still held */
    report_derive(&r, &d);
    assert_true(d.baseline_breached);
    r.srv_conns_end = 0;
    r.srv_fds_end = -1; /* unreadable at the end counts as not returned */
    report_derive(&r, &d);
    assert_true(d.baseline_breached);
}

static void test_handshake_rate(void **state)
{
    struct derived d;

    clean_run();
    r.first_connect_ns = 10 * SEC;
    r.ramp_handshakes = 5000;
    r.ramp_last_ns = 10 * SEC + SEC / 4; /* 5000 in 0.25 s */
    r.all_connected_ns = r.ramp_last_ns;
    r.all_signed_in_ns = 10 * SEC + SEC / 2;
    report_derive(&r, &d);
    assert_close(d.handshakes_per_sec, 20000);
    assert_close(d.all_connected_s, 0.25);
    assert_close(d.all_signed_in_s, 0.5);

    r.all_connected_ns = 0; /* never all connected: no time to report */
    report_derive(&r, &d);
    assert_close(d.all_connected_s, 0);
    assert_close(d.handshakes_per_sec, 20000);
}

static void test_close_codes(void **state)
{
    report_init(&r);
    report_close_code(&r, 1000);
    report_close_code(&r, 1000);
    report_close_code(&r, 1008);
    report_close_code(&r, -1);
    assert_int_equal(r.n_close_codes, 3);
    assert_int_equal(r.close_codes[0].code, 1000);
    assert_int_equal(r.close_codes[0].n, 2);
    assert_int_equal(r.close_codes[1].code, 1008);
    for (int i = 0; i < 2 * REPORT_MAX_CLOSE_CODES; i++)
        report_close_code(&r, 3000 + i);
    assert_int_equal(r.n_close_codes, REPORT_MAX_CLOSE_CODES);
    assert_int_equal(r.close_codes_other, 3 + REPORT_MAX_CLOSE_CODES);
}

static void test_json_matches(void **state)
{
    struct derived d;
    json_t *j;

    clean_run();
    r.deliveries_received -= 3;
    r.errors_by_code[PROTO_E_NOT_IN_ROOM] = 2;
    r.fail_by_end[WSC_END_HTTP] = 1;
    report_close_code(&r, 1000);
    r.server_pid = 42;
    r.srv_rss_base_kb = 1000;
    r.srv_rss_loaded_kb = 6000;
    r.srv_fds_base = r.srv_fds_end = 10;
    r.srv_conns_base = r.srv_conns_end = 0;
    r.max_errors = 0;
    report_derive(&r, &d);
    j = report_json(&r, &d);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "scenario")), "chat");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "deliveries"), "lost")),
                     3);
    assert_close(json_real_value(json_object_get(json_object_get(j, "deliveries"), "per_sec")),
                 d.deliveries_per_sec);
    assert_close(json_real_value(json_object_get(json_object_get(j, "messages"), "ok_per_sec")),
                 4900);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "errors"), "total")), 6);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "errors"), "by_code"), "not_in_room")),
                     2);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(j, "connections"), "failed_by"), "http_status")),
        1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "close_codes"), "1000")),
                     1);
    assert_close(json_real_value(json_object_get(json_object_get(j, "server"), "rss_per_conn_kb")),
                 1.0);
    assert_close(json_real_value(json_object_get(
                     json_object_get(json_object_get(j, "latency_ms"), "delivery"), "p99")),
                 ns_to_ms(hist_quantile(&r.latency, 0.99)));
    assert_false(json_is_true(json_object_get(json_object_get(j, "result"), "pass")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "exit_code")),
                     1);
    json_decref(j);
}

/* A clean quiz run: 20 s window, 125 tables of 8 playing 3 rounds, every event arrived. */
static void clean_quiz(void)
{
    report_init(&r);
    r.scenario = "quiz";
    r.url = "ws://127.0.0.1:8080/ws";
    r.connections = 1000;
    r.measure_start_ns = 100 * SEC;
    r.measure_end_ns = 120 * SEC;
    r.handshakes = r.signed_in = r.ready = 1000;
    r.quiz = true;
    r.quiz_tables = 125;
    r.quiz_rounds = 3;
    r.quiz_seconds = 1;
    r.quiz_starts_sent = r.quiz_starts_ok = 250;
    r.quiz_games_completed = 250;
    r.quiz_games_in_window = 125;
    r.quiz_play_start_ns = 100 * SEC;
    r.quiz_last_over_ns = 125 * SEC; /* the last game of the drain ended 5 s after the window */
    r.quiz_game_starts = r.quiz_game_overs = 2000;
    r.quiz_questions = r.quiz_reveals = 6000;
    r.quiz_answers_sent = r.quiz_answers_ok = 6000;
    r.quiz_answers_in_window = 5000;
    for (int i = 0; i < 1000; i++)
        hist_record(&r.answer, (uint64_t)(i + 1) * 1000); /* 0.001 .. 1 ms */
}

static void test_quiz_figures(void **state)
{
    struct derived d;

    clean_quiz();
    report_derive(&r, &d);
    assert_close(d.play_s, 25);
    assert_close(d.games_per_sec, 10);
    assert_close(d.answers_per_sec, 250);
    assert_int_equal(d.quiz_unanswered, 0);
    assert_int_equal(d.errors_total, 0);
    assert_false(d.no_games);
    assert_int_equal(d.exit_code, 0);

    /* lost events, repeats and requests without a reply are errors; rejections count by code */
    r.quiz_lost_events = 4;
    r.quiz_out_of_order = 1;
    r.quiz_answers_ok -= 5; /* 3 rejected, 2 never answered */
    r.quiz_answers_rejected = 3;
    r.errors_by_code[PROTO_E_GAME_STATE] = 3;
    r.quiz_starts_ok -= 1; /* one start never answered */
    report_derive(&r, &d);
    assert_int_equal(d.quiz_unanswered, 3);
    assert_int_equal(d.errors_total, 4 + 1 + 3 + 3);
    assert_int_equal(d.exit_code, 0); /* no threshold given */
    r.max_errors = 0;
    report_derive(&r, &d);
    assert_int_equal(d.exit_code, 1);
}

static void test_quiz_without_a_game_fails(void **state)
{
    struct derived d;

    clean_quiz();
    r.quiz_games_completed = r.quiz_games_in_window = 0;
    r.quiz_last_over_ns = 0;
    report_derive(&r, &d);
    assert_true(d.no_games);
    assert_int_equal(d.errors_total, 0); /* not an error count, but a failed run */
    assert_int_equal(d.exit_code, 1);
    /* the same counters outside the quiz are not a failure */
    clean_run();
    report_derive(&r, &d);
    assert_false(d.no_games);
    assert_int_equal(d.exit_code, 0);
}

static void test_quiz_p99_is_the_answer_round_trip(void **state)
{
    struct derived d;

    clean_quiz();
    hist_record(&r.latency, 50 * 1000000ULL); /* not the quiz's latency: ignored */
    r.max_p99_ms = 1;
    report_derive(&r, &d);
    assert_false(d.p99_breached);
    r.max_p99_ms = 0.5;
    report_derive(&r, &d);
    assert_true(d.p99_breached);
    assert_int_equal(d.exit_code, 1);
}

static void test_quiz_json_and_table(void **state)
{
    struct derived d;
    json_t *j, *q;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    clean_quiz();
    r.quiz_lost_events = 2;
    r.clock_samples = 125;
    r.clock_offset_ns = 300000;
    r.clock_error_ns = 600000;
    report_derive(&r, &d);
    j = report_json(&r, &d);
    q = json_object_get(j, "quiz");
    assert_non_null(q);
    assert_int_equal(json_integer_value(json_object_get(q, "games_completed")), 250);
    assert_close(json_real_value(json_object_get(q, "games_per_sec")), 10);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "answers"), "ok")),
                     6000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "events"), "lost")), 2);
    assert_false(json_is_true(json_object_get(json_object_get(q, "server_clock"), "applied")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "errors"), "lost_events")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "errors"), "total")), 2);
    assert_close(json_real_value(json_object_get(
                     json_object_get(json_object_get(j, "latency_ms"), "answer"), "p99")),
                 ns_to_ms(hist_quantile(&r.answer, 0.99)));
    assert_false(json_is_true(json_object_get(json_object_get(j, "result"), "no_games")));
    json_decref(j);

    assert_non_null(f);
    report_print(f, &r, &d);
    fclose(f);
    assert_non_null(strstr(buf, "125 tables, 3 round(s) of 1 s: 250 games started, 250 "
                                "completed (10.00/s over 25.0 s of play)"));
    assert_non_null(strstr(buf, "6,000 sent (250/s), 6,000 ok, 0 rejected, 0 unanswered"));
    assert_non_null(strstr(buf, "errors        2 = lost_event 2"));
    assert_non_null(strstr(buf, "taken as the same clock"));
    assert_null(strstr(buf, "delivery")); /* the chat's figures are not shown */
    free(buf);

    /* and the other scenarios' JSON has no quiz in it */
    clean_run();
    report_derive(&r, &d);
    j = report_json(&r, &d);
    assert_null(json_object_get(j, "quiz"));
    assert_null(json_object_get(json_object_get(j, "latency_ms"), "answer"));
    assert_null(json_object_get(json_object_get(j, "result"), "no_games"));
    json_decref(j);
}

static void test_table_prints(void **state)
{
    struct derived d;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    clean_run();
    r.errors_by_code[PROTO_E_RATE_LIMITED] = 4;
    report_derive(&r, &d);
    report_print(f, &r, &d);
    fclose(f);
    assert_non_null(strstr(buf, "2,750,000 expected, 2,750,000 received, 0 lost; 250000/s"));
    assert_non_null(strstr(buf, "errors        4 = rate_limited 4"));
    assert_non_null(strstr(buf, "result        ok"));
    free(buf);
}

/* Several URLs: a run whose rooms were seen in different orders fails without any threshold,
 * each count alone, and says so in the table and the JSON; joins asked again because a room
 * had not reached a node yet are reported and fail nothing. */
static void test_order_check_fails_the_run(void **state)
{
    uint64_t *counts[] = {&r.order_violations, &r.order_gaps, &r.order_mismatches};
    struct derived d;
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    json_t *j;

    clean_run();
    r.order_checked = true;
    r.urls = 3;
    r.order_deliveries = r.deliveries_received;
    report_derive(&r, &d);
    assert_false(d.order_broken);
    assert_int_equal(d.exit_code, 0);
    for (size_t i = 0; i < 3; i++) {
        *counts[i] = 1;
        report_derive(&r, &d);
        assert_true(d.order_broken);
        assert_int_equal(d.exit_code, 1);
        *counts[i] = 0;
    }
    r.join_retries = 7;
    report_derive(&r, &d);
    assert_false(d.order_broken);
    assert_int_equal(d.exit_code, 0);
    r.order_gaps = 2;
    r.order_mismatches = 5;
    report_derive(&r, &d);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    report_print(f, &r, &d);
    fclose(f);
    assert_non_null(strstr(text, "over 3 URLs checked: order_violations 0 gaps 2 mismatches 5"));
    assert_non_null(strstr(text, "(joins retried until the room reached the node: 7)"));
    assert_non_null(strstr(text, "FAIL (members of a room saw different orders)"));
    free(text);
    j = report_json(&r, &d);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "order"), "gaps")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "order"), "join_retries")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "order"), "mismatches")),
                     5);
    assert_true(json_is_true(json_object_get(json_object_get(j, "result"), "order_broken")));
    json_decref(j);

    /* one URL: nothing checked, nothing said */
    clean_run();
    r.order_gaps = 2; /* cannot happen unchecked; must not count if it did */
    report_derive(&r, &d);
    assert_false(d.order_broken);
    j = report_json(&r, &d);
    assert_null(json_object_get(j, "order"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_clean_run),
        cmocka_unit_test(test_losses_and_errors_add_up),
        cmocka_unit_test(test_more_received_than_expected_is_not_negative_loss),
        cmocka_unit_test(test_p99_threshold),
        cmocka_unit_test(test_server_figures),
        cmocka_unit_test(test_handshake_rate),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_json_matches),
        cmocka_unit_test(test_table_prints),
        cmocka_unit_test(test_quiz_figures),
        cmocka_unit_test(test_quiz_without_a_game_fails),
        cmocka_unit_test(test_quiz_p99_is_the_answer_round_trip),
        cmocka_unit_test(test_quiz_json_and_table),
        cmocka_unit_test(test_order_check_fails_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
