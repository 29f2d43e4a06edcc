/*
 * Unit tests for server/base/config.c: defaults, --flag value and --flag=value, PARLOR_* variables
 * (and a flag winning over its variable), --help, every kind of refused value with a message
 * naming its source, the cross-checks between settings, and config_limits_json against the
 * limits table of PROTOCOL.md section 7. Every test starts and ends with no PARLOR_* variable
 * set, since config_parse reads the environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

extern char **environ; /* POSIX; glibc declares it only under _GNU_SOURCE */

/* Unsets every PARLOR_* variable. */
static int clean_env(void **state)
{
    char *names[64];
    size_t n = 0;

    (void)state;
    for (char **e = environ; e && *e && n < 64; e++) {
        const char *eq = strchr(*e, '=');
        if (!strncmp(*e, "PARLOR_", 7) && eq) {
            names[n] = strndup(*e, (size_t)(eq - *e));
            assert_non_null(names[n]);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    for (char **e = environ; e && *e; e++)
        assert_true(strncmp(*e, "PARLOR_", 7) != 0);
    return 0;
}

static enum config_result parse_argv(struct config *cfg, char *err, size_t errlen, char **argv)
{
    int argc = 0;

    while (argv[argc])
        argc++;
    err[0] = '\0';
    return config_parse(cfg, argc, argv, err, errlen);
}

#define ERRLEN 256
/* config_parse over "parlor" followed by the given arguments. */
#define PARSE(cfg, err, ...) parse_argv(cfg, err, ERRLEN, (char *[]){"parlor", __VA_ARGS__, NULL})
#define PARSE_NONE(cfg, err) parse_argv(cfg, err, ERRLEN, (char *[]){"parlor", NULL})

/* The arguments must be refused with a message containing `want1` (and `want2` if not NULL). */
static void expect_refused(char **argv, const char *want1, const char *want2)
{
    struct config cfg;
    char err[ERRLEN];
    enum config_result r = parse_argv(&cfg, err, sizeof(err), argv);

    if (r != CONFIG_ERROR)
        fail_msg("%s %s: result %d, want CONFIG_ERROR", argv[1], argv[2] ? argv[2] : "", (int)r);
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("message '%s' does not name '%s' / '%s'", err, want1, want2 ? want2 : "");
    assert_null(strchr(err, '\n'));
}

#define REFUSED(want1, want2, ...)                                                                 \
    expect_refused((char *[]){"parlor", __VA_ARGS__, NULL}, want1, want2)

static void test_config_defaults(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE_NONE(&cfg, err), CONFIG_OK);
    assert_int_equal(cfg.port, 8080);
    assert_null(cfg.listen); /* every interface */
    assert_string_equal(cfg.db, "data/parlor.db");
    assert_string_equal(cfg.www, PARLOR_DATADIR "/www"); /* the installed client */
    assert_string_equal(cfg.questions, PARLOR_DATADIR "/questions/parlor-core.jsonl");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.event_lib, CONFIG_EVENT_UV);
    assert_int_equal(cfg.db_workers, 3);
    assert_int_equal(cfg.db_queue, 10000);
    assert_int_equal(cfg.max_message, 8192);
    assert_int_equal(cfg.name_max, 24);
    assert_int_equal(cfg.text_max, 1000);
    assert_int_equal(cfg.room_name_max, 48);
    assert_int_equal(cfg.room_max_default, 50);
    assert_int_equal(cfg.room_max_limit, 500);
    assert_int_equal(cfg.lobby_max, 20000);
    assert_int_equal(cfg.rooms_per_session, 16);
    assert_int_equal(cfg.max_rooms, 1000);
    assert_int_equal(cfg.history, 50);
    assert_int_equal(cfg.signin_timeout, 10);
    assert_int_equal(cfg.sendq_max_messages, 2048);
    assert_int_equal(cfg.sendq_max_bytes, 1048576);
    assert_int_equal(cfg.rate_per_sec, 20);
    assert_int_equal(cfg.rate_burst, 40);
    assert_int_equal(cfg.say_per_sec, 5);
    assert_int_equal(cfg.say_burst, 10);
    assert_int_equal(cfg.rate_close_after, 10);
    assert_int_equal(cfg.ping_interval, 30);
    assert_int_equal(cfg.idle_timeout, 60);
}

static void test_config_flag_with_separate_value(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--port", "9000", "--text-max", "50", "--db", "/tmp/x.db",
                           "--www", "/srv/www", "--log-level", "debug", "--room-name-max", "7"),
                     CONFIG_OK);
    assert_int_equal(cfg.port, 9000);
    assert_int_equal(cfg.text_max, 50);
    assert_string_equal(cfg.db, "/tmp/x.db");
    assert_string_equal(cfg.www, "/srv/www");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.room_name_max, 7);
    /* untouched settings keep their defaults */
    assert_int_equal(cfg.name_max, 24);
    assert_int_equal(cfg.history, 50);
}

static void test_config_flag_with_equals(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--port=9001", "--name-max=10", "--log-level=error",
                           "--db=a=b.db", "--sendq-max-bytes=2048", "--event-lib=poll"),
                     CONFIG_OK);
    assert_int_equal(cfg.event_lib, CONFIG_EVENT_POLL);
    assert_int_equal(cfg.port, 9001);
    assert_int_equal(cfg.name_max, 10);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_string_equal(cfg.db, "a=b.db"); /* only the first '=' separates */
    assert_int_equal(cfg.sendq_max_bytes, 2048);
}

static void test_config_last_flag_wins(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--port", "1000", "--port=2000"), CONFIG_OK);
    assert_int_equal(cfg.port, 2000);
}

static void test_config_every_log_level(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--log-level", "error"), CONFIG_OK);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_int_equal(PARSE(&cfg, err, "--log-level", "warn"), CONFIG_OK);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_int_equal(PARSE(&cfg, err, "--log-level", "info"), CONFIG_OK);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(PARSE(&cfg, err, "--log-level", "debug"), CONFIG_OK);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
}

static void test_config_env_sets_value(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    setenv("PARLOR_TEXT_MAX", "50", 1);
    setenv("PARLOR_ROOM_MAX_DEFAULT", "7", 1);
    setenv("PARLOR_LOG_LEVEL", "warn", 1);
    setenv("PARLOR_DB", "/var/lib/parlor.db", 1);
    assert_int_equal(PARSE_NONE(&cfg, err), CONFIG_OK);
    assert_int_equal(cfg.text_max, 50);
    assert_int_equal(cfg.room_max_default, 7);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_string_equal(cfg.db, "/var/lib/parlor.db");
    assert_int_equal(cfg.port, 8080);
}

static void test_config_flag_wins_over_env(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    setenv("PARLOR_TEXT_MAX", "50", 1);
    setenv("PARLOR_PORT", "7000", 1);
    assert_int_equal(PARSE(&cfg, err, "--text-max", "60"), CONFIG_OK);
    assert_int_equal(cfg.text_max, 60);
    assert_int_equal(cfg.port, 7000);
    assert_int_equal(PARSE(&cfg, err, "--port=7001"), CONFIG_OK);
    assert_int_equal(cfg.port, 7001);
    assert_int_equal(cfg.text_max, 50);
}

static void test_config_listen_from_flag_or_env(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--listen", "::1"), CONFIG_OK);
    assert_string_equal(cfg.listen, "::1");
    setenv("PARLOR_LISTEN", "127.0.0.1", 1);
    assert_int_equal(PARSE_NONE(&cfg, err), CONFIG_OK);
    assert_string_equal(cfg.listen, "127.0.0.1");
    assert_int_equal(PARSE(&cfg, err, "--listen=localhost"), CONFIG_OK);
    assert_string_equal(cfg.listen, "localhost");
    assert_int_equal(PARSE(&cfg, err, "--listen", ""), CONFIG_ERROR);
    assert_non_null(strstr(err, "--listen"));
}

static void test_config_help(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--help"), CONFIG_HELP);
    assert_int_equal(PARSE(&cfg, err, "-h"), CONFIG_HELP);
    assert_int_equal(PARSE(&cfg, err, "--port", "9000", "--help"), CONFIG_HELP);
    /* a bad variable in the environment must not hide the help */
    setenv("PARLOR_PORT", "not-a-port", 1);
    assert_int_equal(PARSE(&cfg, err, "--help"), CONFIG_HELP);
    unsetenv("PARLOR_PORT");
}

static void test_config_integer_values_are_plain_digits(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--port", " 80"), CONFIG_ERROR);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(PARSE(&cfg, err, "--port", "+80"), CONFIG_ERROR);
    assert_int_equal(PARSE(&cfg, err, "--port", "80 "), CONFIG_ERROR);
    assert_int_equal(PARSE(&cfg, err, "--port", "80"), CONFIG_OK);
    assert_int_equal(cfg.port, 80);
}

static void test_config_unknown_flag(void **state)
{
    (void)state;
    REFUSED("--bogus", NULL, "--bogus", "1");
    REFUSED("--bogus", NULL, "--bogus=1");
    REFUSED("--portx", NULL, "--portx", "1");
    REFUSED("--por", NULL, "--por=1");
    REFUSED("--PORT", NULL, "--PORT", "1");
    REFUSED("-p", NULL, "-p", "1");
    REFUSED("9000", NULL, "9000");
    REFUSED("--", NULL, "--");
}

static void test_config_missing_value(void **state)
{
    (void)state;
    REFUSED("--port", "expected a value", "--port");
    REFUSED("--db", "expected a value", "--text-max", "9", "--db");
}

static void test_config_non_integer(void **state)
{
    (void)state;
    REFUSED("--port", "'abc'", "--port", "abc");
    REFUSED("--port", "'80x'", "--port", "80x");
    REFUSED("--port", "'8.5'", "--port=8.5");
    REFUSED("--port", "''", "--port", "");
    REFUSED("--port", "''", "--port=");
    REFUSED("--text-max", "'1e3'", "--text-max", "1e3");
    REFUSED("--text-max", "'0x10'", "--text-max", "0x10");
    REFUSED("--text-max", NULL, "--text-max", "50 ");
    REFUSED("--history", "'99999999999999999999'", "--history", "99999999999999999999");
}

static void test_config_range_boundaries(void **state)
{
    static const struct {
        const char *flag;
        const char *lo, *hi;       /* accepted */
        const char *below, *above; /* refused */
    } ranges[] = {
        {"--port", "1", "65535", "0", "65536"},
        {"--max-message", "64", "16777216", "63", "16777217"},
        {"--name-max", "1", "64", "0", "65"},
        {"--text-max", "1", "100000", "0", "100001"},
        {"--room-name-max", "1", "200", "0", "201"},
        {"--history", "0", "1000", "-1", "1001"},
        {"--sendq-max-bytes", "1024", "1073741824", "1023", "1073741825"},
        {"--db-workers", "1", "64", "0", "65"},
    };
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        assert_int_equal(PARSE(&cfg, err, (char *)ranges[i].flag, (char *)ranges[i].lo), CONFIG_OK);
        assert_int_equal(PARSE(&cfg, err, (char *)ranges[i].flag, (char *)ranges[i].hi), CONFIG_OK);
        expect_refused((char *[]){"parlor", (char *)ranges[i].flag, (char *)ranges[i].below, NULL},
                       ranges[i].flag, ranges[i].below);
        expect_refused((char *[]){"parlor", (char *)ranges[i].flag, (char *)ranges[i].above, NULL},
                       ranges[i].flag, ranges[i].above);
    }
    assert_int_equal(PARSE(&cfg, err, "--port", "65535", "--history", "0"), CONFIG_OK);
    assert_int_equal(cfg.port, 65535);
    assert_int_equal(cfg.history, 0);
}

static void test_config_empty_string_option(void **state)
{
    (void)state;
    REFUSED("--db", "expected a value", "--db", "");
    REFUSED("--db", "expected a value", "--db=");
    REFUSED("--www", "expected a value", "--www", "");
}

static void test_config_bad_log_level(void **state)
{
    (void)state;
    REFUSED("--log-level", "'verbose'", "--log-level", "verbose");
    REFUSED("--log-level", "''", "--log-level=");
    REFUSED("--event-lib", "'epoll'", "--event-lib", "epoll");
    REFUSED("--log-level", "'3'", "--log-level", "3");
}

static void test_config_bad_env_names_the_variable(void **state)
{
    (void)state;
    setenv("PARLOR_PORT", "abc", 1);
    REFUSED("PARLOR_PORT", "'abc'", "--text-max", "5");
    unsetenv("PARLOR_PORT");

    setenv("PARLOR_SENDQ_MAX_MESSAGES", "0", 1);
    REFUSED("PARLOR_SENDQ_MAX_MESSAGES", NULL, "--port", "1");
    unsetenv("PARLOR_SENDQ_MAX_MESSAGES");

    setenv("PARLOR_WWW", "", 1);
    REFUSED("PARLOR_WWW", NULL, "--port", "1");
    unsetenv("PARLOR_WWW");

    setenv("PARLOR_LOG_LEVEL", "loud", 1);
    REFUSED("PARLOR_LOG_LEVEL", "'loud'", "--port", "1");
}

static void test_config_room_max_default_vs_limit(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    REFUSED("--room-max-default", "--room-max-limit", "--room-max-default", "501");
    REFUSED("--room-max-default", "--room-max-limit", "--room-max-limit", "49");
    assert_int_equal(PARSE(&cfg, err, "--room-max-default", "500"), CONFIG_OK);
    assert_int_equal(PARSE(&cfg, err, "--room-max-limit", "50"), CONFIG_OK);
    assert_int_equal(PARSE(&cfg, err, "--room-max-limit", "2", "--room-max-default", "2"),
                     CONFIG_OK);
    assert_int_equal(cfg.room_max_limit, 2);
    assert_int_equal(cfg.room_max_default, 2);
}

static void test_config_idle_timeout_vs_ping_interval(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    REFUSED("--idle-timeout", "--ping-interval", "--idle-timeout", "30");
    REFUSED("--idle-timeout", "--ping-interval", "--idle-timeout", "29");
    REFUSED("--idle-timeout", "--ping-interval", "--ping-interval", "60");
    assert_int_equal(PARSE(&cfg, err, "--idle-timeout", "31"), CONFIG_OK);
    assert_int_equal(cfg.idle_timeout, 31);
    assert_int_equal(PARSE(&cfg, err, "--ping-interval", "59"), CONFIG_OK);
    assert_int_equal(cfg.ping_interval, 59);
}

static void test_config_error_is_truncated_to_errlen(void **state)
{
    struct config cfg;
    char err[16];
    char *argv[] = {"parlor", "--this-flag-does-not-exist", NULL};

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(config_parse(&cfg, 2, argv, err, sizeof(err)), CONFIG_ERROR);
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* The keys and defaults of PROTOCOL.md section 7, in its order. */
static const char *const limit_keys[] = {
    "max_message",      "name_max",
    "text_max",         "room_name_max",
    "room_max_default", "room_max_limit",
    "lobby_max",        "rooms_per_session",
    "max_rooms",        "history",
    "signin_timeout",   "sendq_max_messages",
    "sendq_max_bytes",  "rate_per_sec",
    "rate_burst",       "say_per_sec",
    "say_burst",        "rate_close_after",
    "ping_interval",    "idle_timeout",
    "max_connections",  "max_per_address",
    "quiz_max_rounds",  "quiz_max_seconds",
    "quiz_reveal_ms",   "rejoin_seconds",
    "presence_max",     "sendq_soft_messages",
    "sendq_soft_bytes", "sendq_soft_seconds",
    "resume_replay",
};
#define NLIMITS (sizeof(limit_keys) / sizeof(limit_keys[0]))

static void expect_limits(const struct config *cfg, const json_int_t *want)
{
    json_t *o = config_limits_json(cfg);

    assert_non_null(o);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), NLIMITS);
    for (size_t i = 0; i < NLIMITS; i++) {
        json_t *v = json_object_get(o, limit_keys[i]);
        if (!json_is_integer(v))
            fail_msg("limits.%s missing or not an integer", limit_keys[i]);
        if (json_integer_value(v) != want[i])
            fail_msg("limits.%s = %lld, want %lld", limit_keys[i], (long long)json_integer_value(v),
                     (long long)want[i]);
    }
    json_decref(o);
}

static void test_config_limits_json_defaults(void **state)
{
    static const json_int_t want[NLIMITS] = {
        8192, 24, 1000, 48, 50,    500, 20000, 16,  1000, 50, 10,  2048, 1048576, 20, 40, 5,
        10,   10, 30,   60, 20000, 0,   50,    120, 3000, 30, 100, 512,  262144,  10, 200};
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(NLIMITS, 31);
    assert_int_equal(PARSE_NONE(&cfg, err), CONFIG_OK);
    expect_limits(&cfg, want);
}

static void test_config_limits_json_configured(void **state)
{
    static const json_int_t want[NLIMITS] = {100, 11,   12, 13, 14, 15, 16,   17, 18, 19, 20,
                                             21,  2222, 23, 24, 25, 26, 27,   28, 29, 30, 31,
                                             32,  33,   34, 35, 36, 20, 2000, 37, 38};
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    setenv("PARLOR_IDLE_TIMEOUT", "29", 1);
    assert_int_equal(
        PARSE(&cfg, err, "--max-message", "100", "--name-max", "11", "--text-max", "12",
              "--room-name-max", "13", "--room-max-default", "14", "--room-max-limit", "15",
              "--lobby-max", "16", "--rooms-per-session", "17", "--max-rooms", "18", "--history",
              "19", "--signin-timeout", "20", "--sendq-max-messages", "21", "--sendq-max-bytes",
              "2222", "--rate-per-sec", "23", "--rate-burst", "24", "--say-per-sec", "25",
              "--say-burst", "26", "--rate-close-after", "27", "--ping-interval", "28",
              "--max-connections", "30", "--max-per-address", "31", "--quiz-max-rounds", "32",
              "--quiz-max-seconds", "33", "--quiz-reveal-ms", "34", "--rejoin-seconds", "35",
              "--presence-max", "36", "--port", "1234", "--db-workers", "7",
              "--sendq-soft-messages", "20", "--sendq-soft-bytes", "2000", "--sendq-soft-seconds",
              "37", "--resume-replay", "38"),
        CONFIG_OK);
    expect_limits(&cfg, want);
}

/* A soft limit above its hard limit could never apply: welcome announces the hard one. */
static void test_config_soft_limits_are_at_most_hard(void **state)
{
    struct config cfg;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(PARSE(&cfg, err, "--sendq-max-messages", "50", "--sendq-max-bytes", "4096"),
                     CONFIG_OK);
    assert_int_equal(cfg.sendq_soft_messages, 50);
    assert_int_equal(cfg.sendq_soft_bytes, 4096);
    assert_int_equal(PARSE(&cfg, err, "--sendq-soft-messages", "10", "--sendq-max-messages", "50"),
                     CONFIG_OK);
    assert_int_equal(cfg.sendq_soft_messages, 10);
    assert_int_equal(cfg.sendq_soft_bytes, 262144);
}

static void test_config_usage_lists_flags(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    config_usage(f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "--text-max"));
    assert_non_null(strstr(text, "PARLOR_TEXT_MAX"));
    assert_non_null(strstr(text, "default 1000"));
    assert_non_null(strstr(text, "--room-max-default"));
    assert_non_null(strstr(text, "PARLOR_ROOM_MAX_DEFAULT"));
    assert_non_null(strstr(text, "--db "));
    assert_non_null(strstr(text, "default data/parlor.db"));
    /* a long default path whole: the man page is made from this text */
    assert_non_null(strstr(text, "(default " PARLOR_DATADIR "/questions/parlor-core.jsonl;"));
    assert_non_null(strstr(text, "--log-level"));
    assert_non_null(strstr(text, "default info"));
    assert_non_null(strstr(text, "PARLOR_IDLE_TIMEOUT"));
    assert_non_null(strstr(text, "--listen"));
    assert_non_null(strstr(text, "PARLOR_LISTEN"));
    free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, clean_env, clean_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_config_defaults),
        T(test_config_flag_with_separate_value),
        T(test_config_flag_with_equals),
        T(test_config_last_flag_wins),
        T(test_config_every_log_level),
        T(test_config_env_sets_value),
        T(test_config_flag_wins_over_env),
        T(test_config_listen_from_flag_or_env),
        T(test_config_help),
        T(test_config_integer_values_are_plain_digits),
        T(test_config_unknown_flag),
        T(test_config_missing_value),
        T(test_config_non_integer),
        T(test_config_range_boundaries),
        T(test_config_empty_string_option),
        T(test_config_bad_log_level),
        T(test_config_bad_env_names_the_variable),
        T(test_config_room_max_default_vs_limit),
        T(test_config_idle_timeout_vs_ping_interval),
        T(test_config_error_is_truncated_to_errlen),
        T(test_config_limits_json_defaults),
        T(test_config_limits_json_configured),
        T(test_config_soft_limits_are_at_most_hard),
        T(test_config_usage_lists_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
