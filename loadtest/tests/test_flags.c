/*
 * Unit tests for loadtest/flags.c, parlor-loadtest's command line: every flag not given has
 * its documented default, given values land in their fields (long, short, `--flag=value`),
 * scenarios put in their own defaults only where no flag was given, each kind of bad usage is
 * refused, --help wins only when it comes first, and the generated --help lists every flag and
 * scenario within its width. One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flags.h"
#include "scenario.h"

#define MAX_ARGS 32

/* Parses a NULL-terminated list of arguments (argv[0] added). */
static enum flags_result parse(struct opts *o, const char *const *args)
{
    static char *argv[MAX_ARGS + 2];
    int argc = 0;

    argv[argc++] = "parlor-loadtest";
    while (*args && argc <= MAX_ARGS)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    return flags_parse(o, argc, argv);
}

#define PARSE(o, ...) parse(o, (const char *const[]){__VA_ARGS__, NULL})

static void test_flags_defaults(void **state)
{
    struct opts o;

    assert_int_equal(parse(&o, (const char *const[]){NULL}), FLAGS_OK);
    assert_int_equal(o.nurls, 1);
    assert_string_equal(o.urls[0], "ws://127.0.0.1:8080/ws");
    assert_false(o.lobby);
    assert_ptr_equal(o.scenario, &scenario_chat);
    assert_int_equal(o.connections, 100);
    assert_true(o.ramp == 0);
    assert_int_equal(o.max_pending, 256);
    assert_int_equal(o.room_size, 50);
    assert_true(o.rate == 1);
    assert_int_equal(o.inflight, 1);
    assert_int_equal(o.size, 64);
    assert_true(o.duration == 10 && o.warmup == 1 && o.drain == 5);
    assert_true(o.setup_timeout == 60 && o.connect_timeout == 10 && o.settle == 5);
    assert_int_equal(o.churn_pause_ms, 0);
    assert_true(o.lobby_rate == 1);
    assert_int_equal(o.churn_share, 10);
    assert_int_equal(o.quiz_rounds, 3);
    assert_int_equal(o.quiz_seconds, 1);
    assert_string_equal(o.name_prefix, "lt");
    assert_int_equal(o.server_pid, 0);
    assert_false(o.expect_baseline);
    assert_null(o.json_path);
    assert_true(o.max_p99 == -1);
    assert_int_equal(o.max_errors, -1);
    assert_false(o.quiet);
    assert_false(o.resend_on_ok);
    assert_false(o.rate_set || o.warmup_set || o.room_size_set || o.drain_set);
}

static void test_flags_values(void **state)
{
    struct opts o;

    assert_int_equal(PARSE(&o, "--url", "ws://h:1/p", "-c", "7", "--rate=2.5", "--max-errors", "3",
                           "--json", "r.json", "-q", "--name-prefix", "ab_1-", "--scenario",
                           "churn", "--server-pid", "12", "--expect-baseline", "--drain", "0",
                           "--max-p99", "40", "--ramp", "500", "--churn-pause", "250",
                           "--resend-on-ok"),
                     FLAGS_OK);
    assert_int_equal(o.nurls, 1); /* the URL given replaced the default */
    assert_string_equal(o.urls[0], "ws://h:1/p");
    assert_int_equal(o.connections, 7);
    assert_true(o.rate == 2.5);
    assert_true(o.rate_set);
    assert_int_equal(o.max_errors, 3);
    assert_string_equal(o.json_path, "r.json");
    assert_true(o.quiet);
    assert_string_equal(o.name_prefix, "ab_1-");
    assert_ptr_equal(o.scenario, &scenario_churn);
    assert_int_equal(o.server_pid, 12);
    assert_true(o.expect_baseline);
    assert_true(o.drain == 0 && o.drain_set);
    assert_true(o.max_p99 == 40);
    assert_true(o.ramp == 500);
    assert_int_equal(o.churn_pause_ms, 250);
    assert_true(o.resend_on_ok);

    assert_int_equal(PARSE(&o, "-c5"), FLAGS_OK); /* getopt's forms */
    assert_int_equal(o.connections, 5);
    assert_int_equal(PARSE(&o, "--connect-t", "3"), FLAGS_OK); /* an unambiguous prefix */
    assert_true(o.connect_timeout == 3);
    assert_int_equal(o.connections, 100); /* a second parse starts from the defaults */
}

static void test_flags_several_urls(void **state)
{
    struct opts o;
    char many[17 * 12] = "";

    /* repeated and comma-separated, in the order given */
    assert_int_equal(PARSE(&o, "--url", "ws://a:1/ws,ws://b:2/ws", "--url=ws://c:3/ws", "--lobby"),
                     FLAGS_OK);
    assert_int_equal(o.nurls, 3);
    assert_string_equal(o.urls[0], "ws://a:1/ws");
    assert_string_equal(o.urls[1], "ws://b:2/ws");
    assert_string_equal(o.urls[2], "ws://c:3/ws");
    assert_true(o.lobby);
    /* a second parse starts again from the default alone */
    assert_int_equal(PARSE(&o, "-c", "3"), FLAGS_OK);
    assert_int_equal(o.nurls, 1);
    assert_string_equal(o.urls[0], "ws://127.0.0.1:8080/ws");
    /* 16 at most, no empty one */
    for (int i = 0; i < 16; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sws://h:%d", i ? "," : "", i);
    assert_int_equal(PARSE(&o, "--url", many), FLAGS_OK);
    assert_int_equal(o.nurls, 16);
    assert_string_equal(o.urls[15], "ws://h:15");
    assert_int_equal(PARSE(&o, "--url", many, "--url", "ws://one-more"), FLAGS_BAD);
    assert_int_equal(PARSE(&o, "--url", "ws://a:1,,ws://b:2"), FLAGS_BAD);
    assert_int_equal(PARSE(&o, "--url", "ws://a:1,"), FLAGS_BAD);
    assert_int_equal(PARSE(&o, "--url", ""), FLAGS_BAD);
}

static void test_flags_scenario_defaults(void **state)
{
    struct opts o;

    assert_int_equal(PARSE(&o, "--scenario", "broadcast"), FLAGS_OK);
    assert_true(o.rate == 0); /* closed loop unless --rate says otherwise */
    assert_true(o.warmup == 1);
    assert_int_equal(PARSE(&o, "--scenario", "broadcast", "--rate", "3"), FLAGS_OK);
    assert_true(o.rate == 3);
    assert_int_equal(PARSE(&o, "--scenario", "quiz"), FLAGS_OK);
    assert_int_equal(o.room_size, 8);
    assert_true(o.warmup == 0);
    assert_int_equal(PARSE(&o, "--room-size", "4", "--warmup", "2", "--scenario", "quiz"),
                     FLAGS_OK);
    assert_int_equal(o.room_size, 4);
    assert_true(o.warmup == 2);
    assert_int_equal(PARSE(&o, "--scenario", "idle"), FLAGS_OK);
    assert_true(o.warmup == 0 && o.rate == 1);
    assert_int_equal(PARSE(&o, "--scenario", "churn"), FLAGS_OK);
    assert_true(o.warmup == 0);
    assert_int_equal(PARSE(&o, "--scenario", "mixed"), FLAGS_OK);
    assert_true(o.warmup == 1 && o.rate == 1);
    assert_int_equal(o.room_size, 50);
}

static void test_flags_bad_usage(void **state)
{
    static const char *const bad[][5] = {
        {"--rate", "x"},
        {"--rate", "1x"},
        {"--rate"}, /* no value */
        {"-c", "0"},
        {"--connections", "1000001"},
        {"--duration", "0.05"},
        {"--size", "4001"},
        {"--bogus"},
        {"-z"},
        {"extra"},
        {"--scenario", "bogus"},
        {"--name-prefix", "toolong99"},
        {"--name-prefix", "a.b"},
        {"--name-prefix", ""},
        {"--expect-baseline"}, /* needs --server-pid */
        {"--scenario", "mixed", "--rate", "0"},
        {"--max-errors", "-1"},
        {"--quiz-rounds", "1001"},
        {"--lobby", "--scenario", "broadcast"}, /* chat only */
    };
    struct opts o;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("bad usage %zu: %s %s\n", i, bad[i][0], bad[i][1] ? bad[i][1] : "");
        assert_int_equal(parse(&o, bad[i]), FLAGS_BAD);
    }
    assert_int_equal(PARSE(&o, "--expect-baseline", "--server-pid", "1"), FLAGS_OK);
}

static void test_flags_help(void **state)
{
    struct opts o;

    assert_int_equal(PARSE(&o, "--help"), FLAGS_HELP);
    assert_int_equal(PARSE(&o, "-h"), FLAGS_HELP);
    assert_int_equal(PARSE(&o, "--help", "--rate", "x"), FLAGS_HELP);
    assert_int_equal(PARSE(&o, "--rate", "x", "--help"), FLAGS_BAD); /* the first problem wins */
}

static void test_flags_usage_lists_everything(void **state)
{
    /* the flags README's "Load testing" section names, and some defaults */
    static const char *const want[] = {
        "--url URL",
        "--scenario NAME",
        "-c, --connections N",
        "--room-size N",
        "--rate R",
        "--duration S",
        "--server-pid PID",
        "--lobby",
        "round-robin",
        "--quiz-rounds N",
        "--quiz-seconds S",
        "--max-errors N",
        "--max-p99 MS",
        "--expect-baseline",
        "-q, --quiet",
        "-h, --help",
        "[100]",
        "[50; quiz 8]",
        "[1; broadcast 0]",
        "[ws://127.0.0.1:8080/ws]",
        "idle, chat, broadcast, churn, mixed, quiz [chat]",
    };
    char *text = NULL, *line;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const struct scenario_ops *sc;

    assert_non_null(f);
    flags_usage(f);
    fclose(f);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        print_message("looking for %s\n", want[i]);
        assert_non_null(strstr(text, want[i]));
    }
    for (size_t i = 0; (sc = scenario_at(i)); i++) {
        char head[32];
        snprintf(head, sizeof(head), "\n  %-10s ", sc->name);
        assert_non_null(strstr(text, head));
    }
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        assert_true(strlen(line) <= 87);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_defaults),
        cmocka_unit_test(test_flags_values),
        cmocka_unit_test(test_flags_several_urls),
        cmocka_unit_test(test_flags_scenario_defaults),
        cmocka_unit_test(test_flags_bad_usage),
        cmocka_unit_test(test_flags_help),
        cmocka_unit_test(test_flags_usage_lists_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
