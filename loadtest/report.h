/*
 * What one load-test run measured, the arithmetic that turns counters into the figures people
 * read (rates, losses, error totals, memory per connection, CPU share, pass/fail), and the two
 * ways of printing them: a human table and JSON. Pure functions over the struct: the tests
 * fill a report by hand and check every derived figure.
 */
#ifndef PARLOR_LT_REPORT_H
#define PARLOR_LT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hist.h"
#include "proto.h"
#include "wsc.h"

#define REPORT_MAX_CLOSE_CODES 16

struct close_count {
    int code; /* -1: a code parlor.v1 does not have, answering our close */
    uint64_t n;
};

struct report {
    /* what was asked */
    const char *scenario;
    const char *url;
    const char *mode; /* how sends are scheduled, in words */
    int connections;  /* target */
    int room_size;
    double rate; /* messages/s per sender */
    int size;    /* bytes of chat text */
    double duration_s, warmup_s;
    double ramp; /* connections started per second, 0 = as fast as possible */

    /* connections */
    uint64_t connects_started;
    uint64_t handshakes;       /* 101 Switching Protocols received */
    uint64_t signed_in;        /* hello answered ok */
    uint64_t ready;            /* static clients that finished setup */
    uint64_t setup_incomplete; /* static clients still not ready at the setup deadline */
    int64_t first_connect_ns;  /* all times are CLOCK_MONOTONIC ns, 0 = never */
    int64_t all_connected_ns;  /* the target's last 101 of the initial ramp */
    uint64_t ramp_handshakes;  /* 101s of the initial ramp (static clients) */
    int64_t ramp_last_ns;      /* time of the last of them */
    int64_t all_signed_in_ns;  /* its last hello ok */
    int64_t setup_done_ns;
    uint64_t fail_by_end[WSC_END_COUNT]; /* connections that failed, by how */
    uint64_t unexpected_closes;          /* open connections closed by the server or dropped */
    uint64_t garbled_close_echoes;       /* our close 1000 answered with a code parlor.v1 lacks */
    uint64_t stuck_at_end;               /* connections still handshaking or closing at the end */

    /* messages */
    uint64_t says_sent, says_ok, says_rejected;
    uint64_t says_in_window;    /* scheduled inside the measured window */
    uint64_t says_ok_in_window; /* ok received inside the measured window: parlor saved them */
    uint64_t deliveries_expected, deliveries_received;
    uint64_t deliveries_in_window;  /* received inside the measured window */
    uint64_t unexpected_deliveries; /* chat events we could not match to a message we sent */
    uint64_t seq_gaps;              /* a member saw a room's seq jump or go back */
    uint64_t bad_messages;          /* server messages we could not parse */
    uint64_t errors_by_code[PROTO_E_COUNT + 1]; /* index PROTO_E_COUNT: a code we do not know */
    uint64_t other_events;                      /* joined, left, whisper, ... */
    uint64_t cycles;                            /* churn: connect..close rounds completed */
    int64_t measure_start_ns, measure_end_ns;

    struct hist latency;  /* per delivery: scheduled send -> received */
    struct hist fanout;   /* per message: scheduled send -> its last delivery */
    struct hist send_lag; /* actual send - scheduled send: the generator's own lateness */
    struct hist connect;  /* connect() -> 101 */
    struct hist signin;   /* connect() -> hello ok */
    struct hist cycle;    /* churn: connect() -> own chat echoed */

    /* the quiz (scenario quiz only: `quiz` set) */
    bool quiz;
    int quiz_tables, quiz_rounds, quiz_seconds;
    uint64_t quiz_starts_sent, quiz_starts_ok, quiz_starts_rejected;
    uint64_t quiz_games_completed; /* game_over received by a table's host */
    uint64_t quiz_games_in_window; /* ... inside the measured window */
    int64_t quiz_play_start_ns;    /* the first games' start (the run's) */
    int64_t quiz_last_over_ns;     /* the last game_over a host received */
    uint64_t quiz_game_starts, quiz_questions, quiz_reveals, quiz_game_overs; /* every bot's */
    uint64_t quiz_answers_sent, quiz_answers_ok, quiz_answers_rejected;
    uint64_t quiz_answers_in_window; /* sent inside the window */
    uint64_t quiz_answers_skipped;   /* the round was revealed before the bot's delay ran out */
    uint64_t quiz_lost_events;       /* game events a bot was owed and never got */
    uint64_t quiz_out_of_order;      /* game events that repeated or went back */
    uint64_t quiz_unfinished; /* bots whose game had not ended when the run or their connection
                                 did (its missing events are in quiz_lost_events) */
    uint64_t clock_samples;   /* `ping`s that measured the server's clock */
    int64_t clock_offset_ns, clock_error_ns; /* server - local, and its error bound */
    bool clock_applied;                      /* the offset was larger than its error: used */
    struct hist answer;                      /* quiz: answer sent -> its ok */
    struct hist question_lag; /* quiz: the server opening a question -> a bot reading it */

    /* several URLs: whether every room's members saw one order (order.h); any of the three
     * counts fails the run whatever --max-errors says */
    bool order_checked;
    int urls;                  /* how many URLs the clients were spread over */
    uint64_t order_deliveries; /* deliveries judged */
    uint64_t order_violations; /* a member's seq repeated or went back */
    uint64_t order_gaps;       /* a member's seq skipped some */
    uint64_t order_mismatches; /* one seq carried different messages to different members */
    uint64_t join_retries;     /* joins asked again: the room had not reached that node yet */

    struct close_count close_codes[REPORT_MAX_CLOSE_CODES];
    int n_close_codes;
    uint64_t close_codes_other;

    /* the server, when --server-pid was given */
    int server_pid; /* 0 = not watched */
    uint64_t srv_rss_base_kb, srv_rss_loaded_kb, srv_rss_peak_kb, srv_rss_end_kb;
    int srv_fds_base, srv_fds_loaded, srv_fds_end;
    int srv_conns_base, srv_conns_loaded, srv_conns_end; /* -1 unknown */
    uint64_t srv_cpu_ticks_window;                       /* utime+stime over the window */
    /* CPU ticks of every other process on the machine, over the window and over the setup
     * (connecting, signing in, joining: when the handshakes happen); UINT64_MAX = unknown */
    uint64_t others_ticks_window, others_ticks_setup;
    long ticks_per_sec;
    bool check_baseline; /* --expect-baseline */

    /* the load tester itself */
    int64_t self_cpu_ns_window, self_cpu_ns_total, wall_ns_total;

    /* thresholds; negative = not set */
    double max_p99_ms;
    int64_t max_errors;
    bool interrupted;
};

/* Figures computed from a report. */
struct derived {
    double window_s;
    uint64_t lost;
    uint64_t says_unanswered;
    uint64_t connect_failures;
    uint64_t protocol_errors; /* error replies of every code */
    uint64_t errors_total;
    double deliveries_per_sec, messages_per_sec;
    double oks_per_sec; /* messages acknowledged (on parlor: saved) per second of the window */
    double handshakes_per_sec; /* initial ramp: handshakes / (last 101 - first connect) */
    double all_connected_s, all_signed_in_s;
    double setup_s; /* first connect -> every static client set up */
    double cycles_per_sec;
    double play_s;            /* quiz: first start -> last game_over */
    double games_per_sec;     /* quiz: games completed over play_s (tables play in step, so a rate
                                 over the window alone would count whole batches or none) */
    double answers_per_sec;   /* quiz: answers sent in the window, per second of it */
    uint64_t quiz_unanswered; /* quiz: `start` and `answer` without a reply */
    bool no_games;            /* a quiz run that completed no game: a failure */
    double srv_cpu_pct, self_cpu_pct; /* % of one core over the window */
    double other_cpu_pct;             /* other processes, competing for the cores; -1 unknown */
    double setup_other_cpu_pct;       /* the same during the setup; -1 unknown */
    double srv_rss_per_conn_kb;
    bool srv_returned; /* fds and connections back to baseline */
    bool p99_breached, errors_breached, baseline_breached;
    bool order_broken; /* the order check found a violation, gap or mismatch */
    int exit_code;     /* 0, or 1 when a threshold was breached or the order broken */
};

void report_init(struct report *r);
/* Counts one close code seen (-1 for an invalid echo of ours). */
void report_close_code(struct report *r, int code);
void report_derive(const struct report *r, struct derived *d);
/* The latency --max-p99 judges: per delivery, or the answer round trip in the quiz. */
const struct hist *report_p99_hist(const struct report *r);

/* Arithmetic helpers (exposed for the tests). */
double rate_per_sec(uint64_t count, int64_t ns);
double cpu_pct(int64_t cpu_ns, int64_t wall_ns);
double ticks_to_ns(uint64_t ticks, long ticks_per_sec);
double rss_per_conn_kb(uint64_t base_kb, uint64_t loaded_kb, uint64_t conns);
double ns_to_ms(uint64_t ns);

void report_print(FILE *out, const struct report *r, const struct derived *d);
json_t *report_json(const struct report *r, const struct derived *d);

#endif
