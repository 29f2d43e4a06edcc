/*
 * parlor-loadtest's flags (flags.h). One table describes every flag; parsing (getopt_long, so
 * `--flag=value`, `-c5` and unambiguous abbreviations work), the defaults and --help all read
 * it, so a new flag is one entry here. Runs on the load generator's only thread, at startup.
 */
#include "flags.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define HELP_WIDTH   87 /* --help wraps its lines here */
#define HELP_COLUMN  24 /* where an option's help starts */
#define SCENARIO_COL 13 /* where a scenario's help starts */

enum flag_type {
    F_INT,      /* a number stored as int (any number is read, and truncated) */
    F_LLONG,    /* ... as long long */
    F_DOUBLE,   /* ... as double */
    F_STR,      /* a string */
    F_URLS,     /* one or more comma-separated URLs, appended to struct opts' urls[] */
    F_SWITCH,   /* no value: present sets a bool */
    F_SCENARIO, /* a scenario's name, stored as its ops table */
    F_PREFIX,   /* a user-name prefix: 1..FLAGS_NAME_PREFIX_MAX of A-Z a-z 0-9 _ - */
    F_HELP,     /* --help */
};

struct flag {
    const char *name; /* --name */
    char short_name;  /* -c, or 0 */
    enum flag_type type;
    const char *arg;   /* the value's name in --help */
    size_t off;        /* the field in struct opts */
    bool tracked;      /* set `given` when the flag is given */
    size_t given;      /* ... this bool in struct opts */
    double lo, hi;     /* numbers: the range */
    const char *def;   /* the default, read like a given value; NULL: unset (a number is lo - 1) */
    const char *other; /* --help: the default some scenarios use instead */
    const char *help;
};

#define FIELD(f)   offsetof(struct opts, f)
#define TRACK(f)   .tracked = true, .given = offsetof(struct opts, f)
#define FLAG_OPT_0 256 /* getopt's value for a long-only flag: FLAG_OPT_0 + its index */

static const struct flag flags[] = {
    {"url", 0, F_URLS, "URL", FIELD(urls), .def = "ws://127.0.0.1:8080/ws",
     .help = "server WebSocket URL; several (the flag again, or URL,URL,...: at most 16) spread "
             "the clients over them round-robin, and chat then checks that every member of a "
             "room saw the same messages in the same order with no gap (order_violations, "
             "gaps, mismatches: any fails the run); a member's join that finds no such room "
             "yet (made on another node, not there yet) is asked again every 50 ms, at most "
             "200 times (join_retries)"},
    {"scenario", 0, F_SCENARIO, "NAME", FIELD(scenario), .def = "chat"}, /* help: the names */
    {"connections", 'c', F_INT, "N", FIELD(connections), .lo = 1, .hi = 1000000, .def = "100",
     .help = "clients"},
    {"ramp", 0, F_DOUBLE, "R", FIELD(ramp), .lo = 0, .hi = 1e7, .def = "0",
     .help = "connections started per second, 0 = as fast as --max-pending allows"},
    {"max-pending", 0, F_INT, "N", FIELD(max_pending), .lo = 1, .hi = 1000000, .def = "256",
     .help = "connections that may be handshaking/signing in at once"},
    {"room-size", 0, F_INT, "N", FIELD(room_size), TRACK(room_size_set), .lo = 2, .hi = 1000000,
     .def = "50", .other = "quiz 8",
     .help = "chat, mixed, quiz: members per room (2..the server's room_max_limit)"},
    {"rate", 0, F_DOUBLE, "R", FIELD(rate), TRACK(rate_set), .lo = 0, .hi = 1e6, .def = "1",
     .other = "broadcast 0",
     .help = "messages per second per sender; 0 = closed loop (chat, broadcast)"},
    {"inflight", 0, F_INT, "N", FIELD(inflight), .lo = 1, .hi = 10000, .def = "1",
     .help = "closed loop: messages in flight per sender"},
    {"resend-on-ok", 0, F_SWITCH, NULL, FIELD(resend_on_ok),
     .help = "closed loop: send the next message when the server acknowledges one (parlor: "
             "saved it), not when every member has it"},
    {"size", 0, F_INT, "BYTES", FIELD(size), .lo = 1, .hi = FLAGS_MAX_TEXT, .def = "64",
     .help = "chat text length, at least the timestamp header"},
    {"duration", 0, F_DOUBLE, "S", FIELD(duration), .lo = 0.1, .hi = 86400, .def = "10",
     .help = "measured seconds (the hold time for idle)"},
    {"warmup", 0, F_DOUBLE, "S", FIELD(warmup), TRACK(warmup_set), .lo = 0, .hi = 3600, .def = "1",
     .other = "idle, churn, quiz 0",
     .help = "seconds of sending before measuring starts; messages scheduled then are checked "
             "for loss but not timed"},
    {"drain", 0, F_DOUBLE, "S", FIELD(drain), TRACK(drain_set), .lo = 0, .hi = 3600, .def = "5",
     .other = "quiz: as long as a game can last, rounds x (seconds + the server's "
              "quiz_reveal_ms) + 5",
     .help = "after the window, wait up to this for in-flight deliveries"},
    {"setup-timeout", 0, F_DOUBLE, "S", FIELD(setup_timeout), .lo = 0.1, .hi = 86400, .def = "60",
     .help = "give up on clients not set up by then"},
    {"connect-timeout", 0, F_DOUBLE, "S", FIELD(connect_timeout), .lo = 0.1, .hi = 3600,
     .def = "10", .help = "per connection: connect, upgrade and sign-in"},
    {"churn-pause", 0, F_INT, "MS", FIELD(churn_pause_ms), .lo = 0, .hi = 3600000, .def = "0",
     .help = "churn: pause between rounds"},
    {"lobby", 0, F_SWITCH, NULL, FIELD(lobby),
     .help = "chat: every client joins the lobby and talks there instead of in rooms of "
             "--room-size"},
    {"lobby-rate", 0, F_DOUBLE, "R", FIELD(lobby_rate), .lo = 0, .hi = 1e6, .def = "1",
     .help = "mixed: lobby messages per second from client 0"},
    {"churn-share", 0, F_INT, "P", FIELD(churn_share), .lo = 0, .hi = 100, .def = "10",
     .help = "mixed: percent of clients that churn"},
    {"quiz-rounds", 0, F_INT, "N", FIELD(quiz_rounds), .lo = 1, .hi = 1000, .def = "3",
     .help = "quiz: questions per game (1..the server's quiz_max_rounds)"},
    {"quiz-seconds", 0, F_INT, "S", FIELD(quiz_seconds), .lo = 1, .hi = 3600, .def = "1",
     .help = "quiz: seconds per question (1..quiz_max_seconds)"},
    {"name-prefix", 0, F_PREFIX, "STR", FIELD(name_prefix), .def = "lt",
     .help = "user names are STR<client>_<round>, STR at most 8 chars"},
    {"server-pid", 0, F_INT, "PID", FIELD(server_pid), .lo = 1, .hi = 4194304,
     .help = "sample the server's RSS, CPU and fds from /proc/PID"},
    {"expect-baseline", 0, F_SWITCH, NULL, FIELD(expect_baseline),
     .help = "with --server-pid: fail unless the server's fds and connections return to their "
             "values before the run"},
    {"settle", 0, F_DOUBLE, "S", FIELD(settle), .lo = 0, .hi = 3600, .def = "5",
     .help = "time the server gets to return to its baseline"},
    {"json", 0, F_STR, "FILE", FIELD(json_path), .help = "also write the report as JSON to FILE"},
    {"max-p99", 0, F_DOUBLE, "MS", FIELD(max_p99), .lo = 0, .hi = 1e9,
     .help = "exit 1 if the delivery latency p99 (quiz: the answer round trip's) is above MS"},
    {"max-errors", 0, F_LLONG, "N", FIELD(max_errors), .lo = 0, .hi = 1e15,
     .help = "exit 1 if more than N errors (lost deliveries, error replies, failed or dropped "
             "connections, ...)"},
    {"quiet", 'q', F_SWITCH, NULL, FIELD(quiet), .help = "no progress lines on stderr"},
    {"help", 'h', F_HELP, NULL, 0, .help = "this text"},
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static int parse_num(const char *name, const char *arg, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "parlor-loadtest: bad value for --%s: '%s' (want %g..%g)\n", name, arg, lo,
                hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Appends the comma-separated URLs in `val` to o->urls (the first given replaces the
 * default). Returns 0, or -1 with the error printed. */
static int store_urls(struct opts *o, const char *val)
{
    if (o->urls_default) {
        o->nurls = 0;
        o->url_chars = 0;
        o->urls_default = false;
    }
    for (;;) {
        size_t n = strcspn(val, ",");
        if (!n) {
            fprintf(stderr, "parlor-loadtest: --url: an empty URL in the list\n");
            return -1;
        }
        if (o->nurls == FLAGS_MAX_URLS || o->url_chars + n + 1 > sizeof(o->url_text)) {
            fprintf(stderr, "parlor-loadtest: --url: at most %d URLs, %zu characters in all\n",
                    FLAGS_MAX_URLS, sizeof(o->url_text));
            return -1;
        }
        memcpy(o->url_text + o->url_chars, val, n);
        o->url_text[o->url_chars + n] = '\0';
        o->urls[o->nurls++] = o->url_text + o->url_chars;
        o->url_chars += n + 1;
        if (!val[n])
            return 0;
        val += n + 1;
    }
}

/* Stores `val` (NULL for a switch) into f's field. Returns 0, or -1 with the error printed. */
static int flag_store(struct opts *o, const struct flag *f, const char *val)
{
    char *field = (char *)o + f->off;
    double v;

    switch (f->type) {
    case F_INT:
    case F_LLONG:
    case F_DOUBLE:
        if (parse_num(f->name, val, f->lo, f->hi, &v))
            return -1;
        if (f->type == F_INT)
            *(int *)field = (int)v;
        else if (f->type == F_LLONG)
            *(long long *)field = (long long)v;
        else
            *(double *)field = v;
        return 0;
    case F_STR:
        *(const char **)field = val;
        return 0;
    case F_URLS:
        return store_urls(o, val);
    case F_SWITCH:
        *(bool *)field = true;
        return 0;
    case F_SCENARIO: {
        const struct scenario_ops *sc = scenario_find(val);
        char list[128];
        if (!sc) {
            scenario_list(list, sizeof(list));
            fprintf(stderr, "parlor-loadtest: unknown scenario '%s' (%s)\n", val, list);
            return -1;
        }
        *(const struct scenario_ops **)field = sc;
        return 0;
    }
    case F_PREFIX:
        if (!*val || strlen(val) > FLAGS_NAME_PREFIX_MAX ||
            strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                strlen(val)) {
            fprintf(stderr, "parlor-loadtest: --name-prefix: 1-%d of A-Z a-z 0-9 _ -\n",
                    FLAGS_NAME_PREFIX_MAX);
            return -1;
        }
        *(const char **)field = val;
        return 0;
    case F_HELP:
        return 0;
    }
    return -1;
}

static int set_defaults(struct opts *o)
{
    *o = (struct opts){0};
    for (size_t i = 0; i < NFLAGS; i++) {
        const struct flag *f = &flags[i];
        char *field = (char *)o + f->off;
        if (f->def) {
            if (flag_store(o, f, f->def))
                return -1;
            if (f->type == F_URLS)
                o->urls_default = true;
        } else if (f->type == F_INT) {
            *(int *)field = (int)f->lo - 1;
        } else if (f->type == F_LLONG) {
            *(long long *)field = (long long)f->lo - 1;
        } else if (f->type == F_DOUBLE) {
            *(double *)field = f->lo - 1;
        }
    }
    return 0;
}

/* The getopt tables for `flags`: long options, and the short ones ("c:qh"). */
static void build_getopt(struct option *longopts, char *shortopts)
{
    size_t s = 0;

    shortopts[s++] = ':'; /* a missing value returns ':' */
    for (size_t i = 0; i < NFLAGS; i++) {
        bool has_arg = flags[i].type != F_SWITCH && flags[i].type != F_HELP;
        longopts[i] =
            (struct option){flags[i].name, has_arg ? required_argument : no_argument, NULL,
                            flags[i].short_name ? flags[i].short_name : FLAG_OPT_0 + (int)i};
        if (flags[i].short_name) {
            shortopts[s++] = flags[i].short_name;
            if (has_arg)
                shortopts[s++] = ':';
        }
    }
    longopts[NFLAGS] = (struct option){0};
    shortopts[s] = '\0';
}

static const struct flag *flag_for(int opt)
{
    if (opt >= FLAG_OPT_0 && opt < FLAG_OPT_0 + (int)NFLAGS)
        return &flags[opt - FLAG_OPT_0];
    for (size_t i = 0; i < NFLAGS; i++)
        if (flags[i].short_name && flags[i].short_name == opt)
            return &flags[i];
    return NULL;
}

enum flags_result flags_parse(struct opts *o, int argc, char **argv)
{
    struct option longopts[NFLAGS + 1];
    char shortopts[2 * NFLAGS + 2];
    const struct flag *f;
    int opt;

    if (set_defaults(o))
        return FLAGS_BAD;
    build_getopt(longopts, shortopts);
    opterr = 0;
    optind = 0; /* start over, also on a second call */
    while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (opt == ':') {
            fprintf(stderr, "parlor-loadtest: option %s needs a value (see --help)\n",
                    argv[optind - 1]);
            return FLAGS_BAD;
        }
        if (!(f = flag_for(opt))) {
            fprintf(stderr, "parlor-loadtest: unknown option %s (see --help)\n", argv[optind - 1]);
            return FLAGS_BAD;
        }
        if (f->type == F_HELP)
            return FLAGS_HELP;
        if (flag_store(o, f, optarg))
            return FLAGS_BAD;
        if (f->tracked)
            *(bool *)((char *)o + f->given) = true;
    }
    if (optind < argc) {
        fprintf(stderr, "parlor-loadtest: unexpected argument '%s' (see --help)\n", argv[optind]);
        return FLAGS_BAD;
    }
    if (o->scenario->configure)
        o->scenario->configure(o);
    if (o->lobby && o->scenario != &scenario_chat) {
        fprintf(stderr, "parlor-loadtest: --lobby is for --scenario chat\n");
        return FLAGS_BAD;
    }
    if (o->expect_baseline && !o->server_pid) {
        fprintf(stderr, "parlor-loadtest: --expect-baseline needs --server-pid\n");
        return FLAGS_BAD;
    }
    if (o->scenario->check && o->scenario->check(o))
        return FLAGS_BAD;
    return FLAGS_OK;
}

/* Prints `text` from column `col` (the cursor is there), wrapping at HELP_WIDTH to `col`. */
static void wrap(FILE *out, const char *text, int col)
{
    int x = col;

    while (*text) {
        size_t w = strcspn(text, " ");
        if (x > col && x + 1 + (int)w > HELP_WIDTH) {
            fprintf(out, "\n%*s", col, "");
            x = col;
        } else if (x > col) {
            fputc(' ', out);
            x++;
        }
        fprintf(out, "%.*s", (int)w, text);
        x += (int)w;
        text += w;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

void flags_usage(FILE *out)
{
    const struct scenario_ops *sc;
    char left[64], text[512], list[128];

    fprintf(out,
            "usage: parlor-loadtest [options]\n"
            "Drives a parlor.v1 WebSocket server with many clients from one thread and reports\n"
            "delivery counts, latency percentiles, errors and (with --server-pid) the server's\n"
            "memory and CPU. Traffic goes only to the --url(s); the run stops by itself.\n"
            "\n"
            "Scenarios (--scenario):\n");
    for (size_t i = 0; (sc = scenario_at(i)); i++) {
        fprintf(out, "  %-*s", SCENARIO_COL - 2, sc->name);
        wrap(out, sc->help, SCENARIO_COL);
    }
    fprintf(out, "\nOptions (default in brackets):\n");
    scenario_list(list, sizeof(list));
    for (size_t i = 0; i < NFLAGS; i++) {
        const struct flag *f = &flags[i];
        size_t n = 0;

        if (f->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", f->short_name, f->name, f->arg ? " " : "",
                     f->arg ? f->arg : "");
        else
            snprintf(left, sizeof(left), "--%s%s%s", f->name, f->arg ? " " : "",
                     f->arg ? f->arg : "");
        n = (size_t)snprintf(text, sizeof(text), "%s", f->help ? f->help : list);
        if (f->def && n < sizeof(text))
            snprintf(text + n, sizeof(text) - n, " [%s%s%s]", f->def, f->other ? "; " : "",
                     f->other ? f->other : "");
        fprintf(out, "  %-*s", HELP_COLUMN - 2, left);
        if ((int)strlen(left) > HELP_COLUMN - 3)
            fprintf(out, "\n%*s", HELP_COLUMN, "");
        wrap(out, text, HELP_COLUMN);
    }
    fprintf(out,
            "\n"
            "Latency is measured from the time a message was scheduled to be sent (the payload\n"
            "carries it), not from when it was sent, so a slow server or a late generator shows "
            "up\n"
            "instead of being hidden. \"send lag\" is the generator's own lateness. In the quiz,\n"
            "\"answer\" is an answer's round trip (sent -> its ok) and \"question lag\" the time\n"
            "from the server opening a question (its deadline minus the question time, on the\n"
            "server's clock, set against ours with ping) to a bot reading it, to the ms.\n"
            "Exit status: 0 ok, 1 a --max-* threshold or --expect-baseline failed or a quiz run\n"
            "completed no game, 2 bad usage,\n"
            "3 cannot run (open-file limit, address, nothing connected).\n"
            "Ctrl-C stops the run early and still prints the report; a second Ctrl-C skips the\n"
            "close handshakes.\n");
}
