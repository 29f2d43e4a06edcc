/*
 * Tests for the operator figures (server/base/stats.c): per-second rates from counters, peaks, the
 * ten-minute ring and its order, and the Prometheus exposition (counter and gauge lines, a
 * cumulative histogram whose +Inf bucket equals its count).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

static void test_stats_rates_come_from_consecutive_samples(void **state)
{
    static struct stats st;
    struct stats_counters c = {
        .messages_in = 100, .messages_out = 1000, .bytes_out = 5000, .cpu_ms = 0, .connections = 3};
    const struct stats_sample *s;

    stats_init(&st, 0);
    s = stats_record(&st, &c, 1000);
    assert_true(s->messages_in_per_s == 0); /* no previous sample: no rate */
    c.messages_in += 50;
    c.messages_out += 2000;
    c.bytes_out += 10000;
    c.cpu_ms += 250;
    c.connections = 9;
    s = stats_record(&st, &c, 3000); /* two seconds later */
    assert_true(s->messages_in_per_s == 25.0);
    assert_true(s->messages_out_per_s == 1000.0);
    assert_true(s->bytes_out_per_s == 5000.0);
    assert_true(s->cpu_percent == 12.5);
    c.connections = 4;
    stats_record(&st, &c, 4000);
    assert_int_equal(st.peak_connections, 9);
    assert_int_equal(stats_latest(&st)->c.connections, 4);
}

static void test_stats_ring_keeps_ten_minutes_in_order(void **state)
{
    static struct stats st;
    struct stats_counters c = {0};
    json_t *h;

    stats_init(&st, 0);
    for (int i = 0; i < STATS_HISTORY + 25; i++) {
        c.connections = (uint32_t)i;
        stats_record(&st, &c, (int64_t)i * 1000);
    }
    assert_int_equal(st.count, STATS_HISTORY);
    h = stats_history_json(&st, 5);
    assert_int_equal(json_array_size(h), 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(h, (size_t)k), "connections")),
            STATS_HISTORY + 20 + k);
    json_decref(h);
    h = stats_history_json(&st, 100000);
    assert_int_equal(json_array_size(h), STATS_HISTORY);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "connections")), 25);
    json_decref(h);
}

static void test_stats_prometheus_exposition(void **state)
{
    static struct stats st;
    struct stats_counters c = {.messages_in = 7, .connections = 2, .db_jobs = 3, .cpu_ms = 1500};
    struct histo db, commit;
    char *text;

    memset(&db, 0, sizeof(db));
    memset(&commit, 0, sizeof(commit));
    c.chat_saved = 41;
    for (int i = 0; i < 98; i++)
        histo_add(&commit, 2000); /* 2 ms: p50 and p90 */
    histo_add(&commit, 40000);    /* 40 ms: p99 */
    histo_add(&commit, 90000);    /* 90 ms: p99.9, the largest */
    histo_add(&db, 300);          /* 0.3 ms */
    histo_add(&db, 20000);        /* 20 ms */
    histo_add(&db, 3000000);      /* 3 s */
    stats_init(&st, 0);
    stats_record(&st, &c, 1000);
    text = stats_prometheus(&st, &c, &db, &commit, &db, 61000);
    assert_non_null(text);
    assert_non_null(
        strstr(text, "# TYPE parlor_messages_in_total counter\nparlor_messages_in_total 7\n"));
    assert_non_null(strstr(text, "# TYPE parlor_connections gauge\nparlor_connections 2\n"));
    assert_non_null(strstr(text, "process_cpu_seconds_total 1.5\n"));
    assert_non_null(strstr(text, "parlor_uptime_seconds 61\n"));
    assert_non_null(strstr(text, "# TYPE parlor_db_job_seconds histogram\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_bucket{le=\"0.025\"} 2\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_bucket{le=\"2.5\"} 2\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_bucket{le=\"5\"} 3\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_count 3\n"));
    assert_non_null(strstr(text, "parlor_db_job_seconds_sum 3.020300\n"));
    assert_non_null(strstr(text, "# TYPE parlor_chat_messages_saved_total counter\n"
                                 "parlor_chat_messages_saved_total 41\n"));
    /* each quantile is its bucket's upper bound: 2000 us lies in [1920, 2047] */
    assert_non_null(strstr(text, "# TYPE parlor_chat_commit_seconds summary\n"
                                 "parlor_chat_commit_seconds{quantile=\"0.5\"} 0.002047\n"
                                 "parlor_chat_commit_seconds{quantile=\"0.9\"} 0.002047\n"
                                 "parlor_chat_commit_seconds{quantile=\"0.99\"} 0.040959\n"
                                 "parlor_chat_commit_seconds{quantile=\"0.999\"} 0.090000\n"
                                 "parlor_chat_commit_seconds_sum 0.326000\n"
                                 "parlor_chat_commit_seconds_count 100\n"));
    /* the wait summary reads its own histogram (here the job-time one) */
    assert_non_null(strstr(text, "# TYPE parlor_chat_commit_wait_seconds summary\n"
                                 "parlor_chat_commit_wait_seconds{quantile=\"0.5\"} 0.020479\n"));
    assert_non_null(strstr(text, "parlor_chat_commit_wait_seconds_count 3\n"));
    /* every sample line is "name value" or "name{labels} value": no blank or stray lines */
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        assert_true(line[0] == '#' || strncmp(line, "parlor_", 7) == 0 ||
                    strncmp(line, "process_", 8) == 0);
    free(text);
}

static void test_stats_prometheus_empty_summary_is_nan(void **state)
{
    static struct stats st;
    struct stats_counters c = {0};
    struct histo none;
    char *text;

    (void)state;
    memset(&none, 0, sizeof(none));
    stats_init(&st, 0);
    text = stats_prometheus(&st, &c, &none, &none, &none, 1000);
    assert_non_null(text);
    assert_non_null(strstr(text, "parlor_chat_commit_seconds{quantile=\"0.99\"} NaN\n"));
    assert_non_null(strstr(text, "parlor_chat_commit_seconds_count 0\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_rates_come_from_consecutive_samples),
        cmocka_unit_test(test_stats_ring_keeps_ten_minutes_in_order),
        cmocka_unit_test(test_stats_prometheus_exposition),
        cmocka_unit_test(test_stats_prometheus_empty_summary_is_nan),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
