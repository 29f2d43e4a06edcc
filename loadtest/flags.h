/*
 * parlor-loadtest's command line: one table of flags (name, type, range, default, help) from
 * which the parser, the defaults and --help all come. No I/O but the error line on stderr and
 * the --help text. Runs on the load generator's only thread, before anything else.
 */
#ifndef PARLOR_LT_FLAGS_H
#define PARLOR_LT_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

#define FLAGS_MAX_TEXT        4000 /* --size at most */
#define FLAGS_NAME_PREFIX_MAX 8
#define FLAGS_MAX_URLS        16   /* --url given several times, or comma-separated */
#define FLAGS_URL_CHARS       4096 /* all of them together */

struct scenario_ops;

struct opts {
    const char *urls[FLAGS_MAX_URLS]; /* clients go to these round-robin: client i to i % nurls */
    int nurls;
    bool urls_default;              /* urls[] holds the default, which a --url replaces */
    size_t url_chars;               /* used of url_text */
    char url_text[FLAGS_URL_CHARS]; /* the URLs that urls[] point to, each NUL-terminated */
    bool lobby;                     /* chat: everyone in the lobby instead of rooms */
    const struct scenario_ops *scenario;
    int connections;
    double ramp;
    int max_pending;
    int room_size;
    double rate;
    int inflight;
    int size;
    double duration, warmup, drain, setup_timeout, connect_timeout, settle;
    int churn_pause_ms;
    double lobby_rate;
    int churn_share;
    int quiz_rounds, quiz_seconds;
    const char *name_prefix;
    int server_pid; /* 0: none */
    bool expect_baseline;
    const char *json_path; /* NULL: none */
    double max_p99;        /* -1: no threshold */
    long long max_errors;  /* -1: no threshold */
    bool quiet;
    bool resend_on_ok; /* closed loop: the next message follows the ok, not the deliveries */
    /* given on the command line: a scenario's own default does not replace these */
    bool rate_set, warmup_set, room_size_set, drain_set;
};

enum flags_result {
    FLAGS_BAD = -1, /* bad usage: one line on stderr said why (exit status 2) */
    FLAGS_OK = 0,
    FLAGS_HELP = 1, /* --help: print flags_usage() and exit 0 */
};

/* Reads argv into `o` (every flag not given gets its default, then the scenario's). Strings
 * in `o` point into argv. */
enum flags_result flags_parse(struct opts *o, int argc, char **argv);
/* The --help text, its option list generated from the flag table. */
void flags_usage(FILE *out);

#endif
