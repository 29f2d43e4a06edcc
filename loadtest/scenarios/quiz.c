/*
 * Scenario quiz: bots at tables of --room-size. The first of each table creates a quiz room
 * (--quiz-rounds, --quiz-seconds) and starts games back to back; every bot answers each
 * question with a random choice after a random delay (qbot.c keeps the bookkeeping). Reports
 * games, answers, lost events, the answer round trip and how late questions arrive. Runs on
 * the load generator's only thread.
 */
#include <stdio.h>

#include "hist.h"
#include "scenario.h"

static void quiz_configure(struct opts *o)
{
    if (!o->warmup_set)
        o->warmup = 0;
    if (!o->room_size_set)
        o->room_size = 8;
}

static void quiz_mode(const struct lt *lt, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "quiz: %d tables of up to %d, games of %d round(s) of %d s played back to back; "
             "each bot answers a random choice within 3/4 of the time",
             lt->nrooms, lt->o.room_size, lt->o.quiz_rounds, lt->o.quiz_seconds);
}

static void quiz_report_setup(struct lt *lt)
{
    lt->r.quiz = true;
    lt->r.quiz_tables = lt->nrooms;
    lt->r.quiz_rounds = lt->o.quiz_rounds;
    lt->r.quiz_seconds = lt->o.quiz_seconds;
}

static bool is_host(const struct lt *lt, const struct client *c)
{
    return c->room >= 0 && c->idx == (uint32_t)lt->rooms[c->room].first;
}

/* ---- requests ---- */

/* A table host asks the server's clock once, to put the questions' deadlines on ours. */
static void send_ping(struct lt *lt, struct client *c)
{
    c->ping_sent_real = lt_real_ns();
    client_send(lt, c, "{\"type\":\"ping\",\"id\":%llu}",
                (unsigned long long)lt_req_id(c->cycle, K_PING));
}

/* A quiz table: `max` seats, the rounds and seconds of --quiz-rounds and --quiz-seconds. */
static void send_create_quiz(struct lt *lt, struct client *c, const char *name, int max)
{
    c->phase = C_CREATE;
    client_send(lt, c,
                "{\"type\":\"create\",\"id\":%llu,\"name\":\"%s\",\"game\":\"quiz\",\"max\":%d,"
                "\"rounds\":%d,\"seconds\":%d}",
                (unsigned long long)lt_req_id(c->cycle, K_CREATE), name, max, lt->o.quiz_rounds,
                lt->o.quiz_seconds);
}

static void send_start(struct lt *lt, struct client *c)
{
    c->quiz_owed++;
    lt->quiz_replies_owed++;
    lt->r.quiz_starts_sent++;
    client_send(lt, c, "{\"type\":\"start\",\"id\":%llu,\"room\":\"%s\"}",
                (unsigned long long)lt_req_id(c->qb.started, K_START), lt->rooms[c->room].id);
}

static void send_answer(struct lt *lt, struct client *c, int round, int choice)
{
    int64_t now = lt_mono_ns();

    c->answer_sent_ns = now;
    c->answer_measured = now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns;
    c->quiz_owed++;
    lt->quiz_replies_owed++;
    lt->r.quiz_answers_sent++;
    if (c->answer_measured)
        lt->r.quiz_answers_in_window++;
    client_send(lt, c,
                "{\"type\":\"answer\",\"id\":%llu,\"room\":\"%s\",\"round\":%d,\"choice\":%d}",
                (unsigned long long)lt_req_id(++c->answer_no, K_ANSWER), lt->rooms[c->room].id,
                round, choice);
}

/* The host creates the table, the others join it once it exists. */
static void quiz_signed_in(struct lt *lt, struct client *c)
{
    struct room *rm = &lt->rooms[c->room];
    char name[48];

    if (!is_host(lt, c)) {
        client_join_or_wait(lt, c);
        return;
    }
    snprintf(name, sizeof(name), "lt quiz %d", c->room);
    send_ping(lt, c); /* answered before the create: requests are answered in order */
    send_create_quiz(lt, c, name, rm->count < 2 ? 2 : rm->count);
}

/* ---- a bot's game ---- */

/* Feeds one game event to the bot's bookkeeping and counts what it says was lost. Returns
 * what qbot_event does (-1: a repeat, ignored). */
static int quiz_event(struct lt *lt, struct client *c, enum qbot_event ev, int round, int of)
{
    bool was = qbot_playing(&c->qb);
    int lost = qbot_event(&c->qb, ev, round, of);

    if (lost < 0)
        lt->r.quiz_out_of_order++;
    else
        lt->r.quiz_lost_events += (uint64_t)lost;
    lt->quiz_playing += (int)qbot_playing(&c->qb) - (int)was;
    return lost;
}

/* The bot leaves its game unfinished (its connection ended, or the run did): what the game
 * still owed it is lost, and its pending `start` and `answer` requests will never be answered
 * (counted as unanswered). */
static void quiz_client_ended(struct lt *lt, struct client *c)
{
    if (qbot_playing(&c->qb)) {
        lt->r.quiz_lost_events += (uint64_t)qbot_abandon(&c->qb);
        lt->r.quiz_unfinished++;
        lt->quiz_playing--;
    }
    lt->quiz_replies_owed -= c->quiz_owed;
    c->quiz_owed = 0;
}

static void quiz_reply_seen(struct lt *lt, struct client *c)
{
    if (c->quiz_owed) {
        c->quiz_owed--;
        lt->quiz_replies_owed--;
    }
}

/* The host starts a game while the window is open (the games that run past its end finish in
 * the drain). */
static void quiz_maybe_start(struct lt *lt, struct client *c, int64_t now)
{
    if (lt->phase == G_RUN && now < lt->r.measure_end_ns && !lt_signals_seen && c->phase == C_READY)
        send_start(lt, c);
}

static void handle_question(struct lt *lt, struct client *c, const struct member *m, int n)
{
    const struct member *choices = scan_find(m, n, "choices");
    int64_t round, of, deadline, now = lt_mono_ns(), recv = lt_real_ns();

    if (!client_field_int(m, n, "of", 1, UINT16_MAX, &of) ||
        !client_field_int(m, n, "round", 1, of, &round) ||
        !client_field_int(m, n, "deadline", 0, INT64_MAX / NS_PER_MS, &deadline) || !choices ||
        scan_array_len(choices->val) != QUIZ_CHOICES) {
        lt->r.bad_messages++;
        return;
    }
    lt->r.quiz_questions++;
    if (lt_in_window(lt, now))
        hist_record(&lt->r.question_lag,
                    (uint64_t)qbot_question_lag_ns(recv, deadline, lt->o.quiz_seconds,
                                                   qbot_clock_correction(&lt->clock)));
    if (quiz_event(lt, c, QBOT_QUESTION, (int)round, (int)of) >= 0) /* not a repeat */
        client_timer_at(lt, now + qbot_answer_delay_ns(qbot_rand(&lt->rng), lt->o.quiz_seconds),
                        c->idx, T_ANSWER, (uint16_t)round);
}

static void handle_game_over(struct lt *lt, struct client *c)
{
    int64_t now = lt_mono_ns();

    lt->r.quiz_game_overs++;
    quiz_event(lt, c, QBOT_GAME_OVER, 0, 0);
    if (!is_host(lt, c))
        return;
    lt->r.quiz_games_completed++;
    lt->r.quiz_last_over_ns = now;
    if (lt_in_window(lt, now))
        lt->r.quiz_games_in_window++;
    quiz_maybe_start(lt, c, now);
}

/* The quiz's events; false for a type that is not one of them. */
static bool quiz_on_event(struct lt *lt, struct client *c, struct span type, const struct member *m,
                          int n)
{
    const struct member *room = scan_find(m, n, "room");
    int64_t v;

    if (!scan_str_eq(type, "game_started") && !scan_str_eq(type, "question") &&
        !scan_str_eq(type, "reveal") && !scan_str_eq(type, "game_over"))
        return false;
    if (c->room < 0 || !room || !scan_str_eq(room->val, lt->rooms[c->room].id)) {
        lt->r.bad_messages++; /* a game event from a table this bot does not sit at */
        return true;
    }
    if (lt->phase >= G_CLOSE) { /* the run has written its games off already */
        lt->r.other_events++;
        return true;
    }
    if (scan_str_eq(type, "question")) {
        handle_question(lt, c, m, n);
    } else if (scan_str_eq(type, "reveal")) {
        if (!client_field_int(m, n, "round", 1, UINT16_MAX, &v)) {
            lt->r.bad_messages++;
            return true;
        }
        lt->r.quiz_reveals++;
        quiz_event(lt, c, QBOT_REVEAL, (int)v, 0);
    } else if (scan_str_eq(type, "game_started")) {
        lt->r.quiz_game_starts++;
        quiz_event(lt, c, QBOT_GAME_STARTED, 0,
                   client_field_int(m, n, "rounds", 1, UINT16_MAX, &v) ? (int)v : 0);
    } else {
        handle_game_over(lt, c);
    }
    return true;
}

/* The first `welcome`: the reveal pause (how long a game lasts); and a run that asks for more
 * than the server allows stops there, as bad usage, rather than failing every table's create. */
static void quiz_on_welcome(struct lt *lt, const struct member *m, int n)
{
    const struct member *limits = scan_find(m, n, "limits");
    struct member l[64];
    int ln;
    int64_t v;
    int largest = 0;
    bool fits = true;

    if (lt->welcome_checked || !limits ||
        (ln = scan_object(limits->val.p, limits->val.n, l, 64)) < 0)
        return;
    lt->welcome_checked = true;
    if (ln > 64)
        ln = 64;
    if (client_field_int(l, ln, "quiz_reveal_ms", 0, 3600000, &v))
        lt->quiz_reveal_ms = (int)v;
    if (client_field_int(l, ln, "quiz_max_rounds", 0, INT64_MAX, &v) && lt->o.quiz_rounds > v) {
        fprintf(stderr,
                "parlor-loadtest: --quiz-rounds %d is above the server's quiz_max_rounds %lld\n",
                lt->o.quiz_rounds, (long long)v);
        fits = false;
    }
    if (client_field_int(l, ln, "quiz_max_seconds", 0, INT64_MAX, &v) && lt->o.quiz_seconds > v) {
        fprintf(stderr,
                "parlor-loadtest: --quiz-seconds %d is above the server's quiz_max_seconds %lld\n",
                lt->o.quiz_seconds, (long long)v);
        fits = false;
    }
    for (int k = 0; k < lt->nrooms; k++) /* a lone last client joins the table before it */
        if (lt->rooms[k].count > largest)
            largest = lt->rooms[k].count;
    if (client_field_int(l, ln, "room_max_limit", 0, INT64_MAX, &v) && largest > v) {
        fprintf(stderr,
                "parlor-loadtest: --room-size %d makes tables of up to %d, above the server's "
                "room_max_limit %lld\n",
                lt->o.room_size, largest, (long long)v);
        fits = false;
    }
    lt->unfit = !fits; /* stops the run as Ctrl-C does; exit status 2 */
}

/* A reply to `start`, `answer` or `ping`. */
static void quiz_on_reply(struct lt *lt, struct client *c, enum kind k, uint64_t seq,
                          const struct member *m, int n, bool is_error)
{
    int64_t now = lt_mono_ns(), t;

    switch (k) {
    case K_PING:
        if (!is_error && client_field_int(m, n, "time", 0, INT64_MAX / NS_PER_MS, &t))
            qbot_clock_sample(&lt->clock, c->ping_sent_real, lt_real_ns(), t);
        break;
    case K_START:
        quiz_reply_seen(lt, c);
        if (is_error)
            lt->r.quiz_starts_rejected++;
        else
            lt->r.quiz_starts_ok++;
        break;
    case K_ANSWER:
        quiz_reply_seen(lt, c);
        if (is_error) {
            lt->r.quiz_answers_rejected++;
        } else {
            lt->r.quiz_answers_ok++;
            if (seq == c->answer_no && c->answer_measured)
                hist_record(&lt->r.answer, (uint64_t)(now - c->answer_sent_ns));
        }
        break;
    default:
        break;
    }
}

/* ---- the run ---- */

/* Everyone who could be set up is in: each host starts its table's first game. */
static void quiz_start(struct lt *lt, int64_t now)
{
    lt->r.quiz_play_start_ns = now;
    for (int k = 0; k < lt->nrooms; k++)
        if (lt->c[lt->rooms[k].first].phase == C_READY)
            send_start(lt, &lt->c[lt->rooms[k].first]);
}

static void quiz_timer(struct lt *lt, struct tev t, int64_t now)
{
    struct client *c = &lt->c[t.client];

    if (t.kind != T_ANSWER || c->phase != C_READY || (lt->phase != G_RUN && lt->phase != G_DRAIN))
        return;
    if (qbot_take_answer(&c->qb, t.round))
        send_answer(lt, c, t.round, (int)(qbot_rand(&lt->rng) % QUIZ_CHOICES));
    else
        lt->r.quiz_answers_skipped++; /* revealed (or a new game) before its turn came */
}

/* Without --drain, as long as a game started just before the window closed can last (every
 * question to its deadline, every reveal's pause). */
static double quiz_drain_seconds(const struct lt *lt)
{
    if (lt->o.drain_set)
        return lt->o.drain;
    return lt->o.quiz_rounds * (lt->o.quiz_seconds + lt->quiz_reveal_ms / 1000.0) + 5;
}

static bool quiz_drained(const struct lt *lt)
{
    return lt->quiz_playing == 0 && lt->quiz_replies_owed == 0;
}

static void quiz_progress(const struct lt *lt, int64_t now, const char *phase)
{
    uint64_t errors = lt->r.unexpected_closes + lt->r.fail_by_end[WSC_END_CONNECT] +
                      lt->r.fail_by_end[WSC_END_ABORTED] + lt->r.quiz_lost_events;

    for (int i = 1; i <= PROTO_E_COUNT; i++)
        errors += lt->r.errors_by_code[i];
    fprintf(stderr,
            "[%6.1fs] %-6s handshakes %llu signed-in %llu ready %d games %llu playing %d "
            "answers %llu/%llu errors %llu\n",
            (double)(now - lt->t_begin) / 1e9, phase, (unsigned long long)lt->r.handshakes,
            (unsigned long long)lt->r.signed_in, lt->ready_static,
            (unsigned long long)lt->r.quiz_games_completed, lt->quiz_playing,
            (unsigned long long)lt->r.quiz_answers_ok, (unsigned long long)lt->r.quiz_answers_sent,
            (unsigned long long)errors);
}

const struct scenario_ops scenario_quiz = {
    .name = "quiz",
    .help = "N bots at tables of --room-size: the first of each table creates a quiz room "
            "(--quiz-rounds, --quiz-seconds), the others join; the host starts a game, every bot "
            "answers each question with a random choice after a random delay within 3/4 of the "
            "question time, and at game_over the host starts the next game, until --duration "
            "ends; games still running finish in the drain. Reports games, answers, lost events "
            "and the answer round trip",
    .rooms = true,
    .timers_in_drain = true,
    .configure = quiz_configure,
    .mode = quiz_mode,
    .report_setup = quiz_report_setup,
    .signed_in = quiz_signed_in,
    .start = quiz_start,
    .timer = quiz_timer,
    .on_event = quiz_on_event,
    .on_welcome = quiz_on_welcome,
    .on_reply = quiz_on_reply,
    .client_ended = quiz_client_ended,
    .drain_seconds = quiz_drain_seconds,
    .drained = quiz_drained,
    .progress = quiz_progress,
};
