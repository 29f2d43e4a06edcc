/*
 * Tests for a quiz game the nodes of a cluster share (server/game/shared.c), on one node with a
 * fake cluster: an in-memory game_sync_ops that records every call and keeps its `done`
 * callback in a queue until the test answers it. The steps other nodes publish come in through
 * the room kind's hooks (synced, relinked) as the cluster would hand them over; what the members
 * here receive comes out of their sessions' send queues, through the fake transport and clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat.h"
#include "game.h"
#include "gamesync.h"
#include "proto.h"
#include "qbank.h"
#include "room.h"
#include "server.h"
#include "session.h"
#include "table.h"

#include "fake_transport.h"

/* Three questions whose right answers are 0, 1 and 2. */
static struct quiz_question fake_questions[] = {
    {.id = 1, .text = "q0?", .choices = {"a", "b", "c", "d"}, .correct = 0},
    {.id = 2, .text = "q1?", .choices = {"a", "b", "c", "d"}, .correct = 1},
    {.id = 3, .text = "q2?", .choices = {"a", "b", "c", "d"}, .correct = 2},
};
static struct quiz_question *fake_question_ptrs[] = {&fake_questions[0], &fake_questions[1],
                                                     &fake_questions[2]};
static struct qbank fake_bank = {.qs = fake_question_ptrs, .n = 3, .cap = 3};

#define ROOM  "r1"
#define EPOCH 7 /* the lease of the node that owns the game elsewhere */

/* ---- the fake cluster: game_sync_ops that wait for the test to answer */

enum fake_op {
    OP_BEGIN,
    OP_STEP,
    OP_CLOSE,
    OP_ANSWER,
    OP_RENEW,
    OP_RELEASE,
    OP_TAKEOVER,
    OP_MISSED,
    OP_COUNT
};

/* A call the server made, waiting for its answer. */
struct fake_call {
    enum fake_op op;
    char room[ROOM_ID_LEN];
    int64_t epoch;              /* step, close, renew, release */
    char *checkpoint, *events;  /* begin, step: copies of the step's texts */
    int open_round;             /* begin, step */
    int64_t deadline_ms, after; /* begin, step */
    uint64_t seat;              /* answer */
    int round, choice;          /* answer */
    game_sync_done_fn *done;
    void *arg;
};

#define FAKE_CALLS_MAX 64
/* missed is answered at once no deeper than this: a loop fails the test instead of the stack */
#define FAKE_SYNC_DEPTH 10

static struct {
    struct fake_call q[FAKE_CALLS_MAX]; /* pending, oldest first */
    int n;
    int calls[OP_COUNT]; /* how many of each op the server made */
    /* the link is down: missed answers -1 before it returns, as games.c's run() does when
     * link_command() fails */
    bool missed_fails_at_once;
    int depth; /* missed calls answered at once, nested */
} fake_sync;

static struct fake_call *record(enum fake_op op, const char *room, game_sync_done_fn *done,
                                void *arg)
{
    struct fake_call *c;

    fake_sync.calls[op]++;
    if (fake_sync.n == FAKE_CALLS_MAX)
        fail_msg("fake cluster: more than %d calls pending", FAKE_CALLS_MAX);
    c = &fake_sync.q[fake_sync.n++];
    *c = (struct fake_call){.op = op, .done = done, .arg = arg};
    snprintf(c->room, sizeof(c->room), "%s", room);
    return c;
}

static void copy_step(struct fake_call *c, const struct game_step *step)
{
    c->checkpoint = step->checkpoint ? strdup(step->checkpoint) : NULL;
    c->events = step->events ? strdup(step->events) : NULL;
    c->open_round = step->open_round;
    c->deadline_ms = step->deadline_ms;
    c->after = step->after;
}

static void fake_begin(struct server *srv, const char *room, const struct game_step *step,
                       game_sync_done_fn *done, void *arg)
{
    (void)srv;
    copy_step(record(OP_BEGIN, room, done, arg), step);
}

static void fake_step(struct server *srv, const char *room, int64_t epoch,
                      const struct game_step *step, game_sync_done_fn *done, void *arg)
{
    struct fake_call *c = record(OP_STEP, room, done, arg);

    (void)srv;
    c->epoch = epoch;
    copy_step(c, step);
}

static void fake_close(struct server *srv, const char *room, int64_t epoch, game_sync_done_fn *done,
                       void *arg)
{
    (void)srv;
    record(OP_CLOSE, room, done, arg)->epoch = epoch;
}

static void fake_answer(struct server *srv, const char *room, uint64_t seat, int round, int choice,
                        int64_t answered_at_ms, game_sync_done_fn *done, void *arg)
{
    struct fake_call *c = record(OP_ANSWER, room, done, arg);

    (void)srv;
    (void)answered_at_ms;
    c->seat = seat;
    c->round = round;
    c->choice = choice;
}

static void fake_renew(struct server *srv, const char *room, int64_t epoch, game_sync_done_fn *done,
                       void *arg)
{
    (void)srv;
    record(OP_RENEW, room, done, arg)->epoch = epoch;
}

static void fake_release(struct server *srv, const char *room, int64_t epoch,
                         game_sync_done_fn *done, void *arg)
{
    (void)srv;
    record(OP_RELEASE, room, done, arg)->epoch = epoch;
}

static void fake_takeover(struct server *srv, const char *room, game_sync_done_fn *done, void *arg)
{
    (void)srv;
    record(OP_TAKEOVER, room, done, arg);
}

static void fake_missed(struct server *srv, const char *room, game_sync_done_fn *done, void *arg)
{
    if (fake_sync.missed_fails_at_once && fake_sync.depth < FAKE_SYNC_DEPTH) {
        fake_sync.calls[OP_MISSED]++;
        fake_sync.depth++;
        done(srv, room, -1, NULL, arg);
        fake_sync.depth--;
        return;
    }
    record(OP_MISSED, room, done, arg);
}

static const struct game_sync_ops fake_sync_ops = {.begin = fake_begin,
                                                   .step = fake_step,
                                                   .close = fake_close,
                                                   .answer = fake_answer,
                                                   .renew = fake_renew,
                                                   .release = fake_release,
                                                   .takeover = fake_takeover,
                                                   .missed = fake_missed,
                                                   .lease_ms = 3000};

static void free_call(struct fake_call *c)
{
    free(c->checkpoint);
    free(c->events);
}

static int pending(enum fake_op op)
{
    int k = 0;

    for (int i = 0; i < fake_sync.n; i++)
        k += fake_sync.q[i].op == op;
    return k;
}

/* The oldest pending call of `op`, taken out of the queue (free_call it); fails without one. */
static struct fake_call take_call(enum fake_op op)
{
    struct fake_call c;
    int i;

    for (i = 0; i < fake_sync.n && fake_sync.q[i].op != op; i++)
        ;
    if (i == fake_sync.n)
        fail_msg("fake cluster: no call of op %d pending", (int)op);
    c = fake_sync.q[i];
    memmove(&fake_sync.q[i], &fake_sync.q[i + 1], (size_t)(fake_sync.n - i - 1) * sizeof(c));
    fake_sync.n--;
    return c;
}

/* Answers the oldest pending call of `op` with `result` and `data` (borrowed). */
static void answer_call(struct server *srv, enum fake_op op, int64_t result, json_t *data)
{
    struct fake_call c = take_call(op);

    if (c.done)
        c.done(srv, c.room, result, data, c.arg);
    free_call(&c);
}

static void fake_sync_reset(void)
{
    for (int i = 0; i < fake_sync.n; i++)
        free_call(&fake_sync.q[i]);
    memset(&fake_sync, 0, sizeof(fake_sync));
}

/* ---- the server, its sessions and the shared table */

struct fixture {
    struct server srv;
    struct config cfg;
    struct fake_conn conns[8];
    struct session *s[8];
    int n;
    struct session *ann, *bob, *cid; /* ann and bob at the table; cid in the lobby only */
};

static void default_config(struct config *cfg)
{
    char err[256];
    char *argv[] = {"parlor-server", NULL};

    assert_int_equal(config_parse(cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
}

/* Pops the oldest queued message of `s` as JSON; fails the test when there is none. */
static json_t *next_msg(struct session *s)
{
    struct msgbuf *m = session_out_peek(s);
    json_error_t jerr;
    json_t *j;

    assert_non_null(m);
    j = json_loadb((const char *)msgbuf_payload(m), m->len, 0, &jerr);
    assert_non_null(j);
    session_out_pop(s);
    return j;
}

static void expect_empty(struct session *s)
{
    struct msgbuf *m = session_out_peek(s);

    if (m)
        fail_msg("expected nothing more for %s, got %.*s", s->name, (int)m->len,
                 (const char *)msgbuf_payload(m));
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void send_text(struct fixture *fx, struct session *s, const char *text)
{
    chat_handle(&fx->srv, s, text, strlen(text));
}

/* The next message of `s` must be an event of `type`; returns it. */
static json_t *expect_event(struct session *s, const char *type)
{
    json_t *ev = next_msg(s);

    if (strcmp(str(ev, "type"), type)) {
        char *dump = json_dumps(ev, 0);
        fail_msg("expected %s for %s, got %s", type, s->name, dump);
    }
    return ev;
}

/* The next message of `s` must be an ok echoing `id`. */
static void expect_ok_msg(struct session *s, int id)
{
    json_t *r = expect_event(s, "ok");

    assert_int_equal(num(r, "re"), id);
    json_decref(r);
}

/* Sends a request and checks that the next message is an ok echoing `id`; returns it. */
static json_t *expect_ok(struct fixture *fx, struct session *s, int id, const char *request)
{
    json_t *r;

    send_text(fx, s, request);
    r = expect_event(s, "ok");
    assert_int_equal(num(r, "re"), id);
    return r;
}

static void drain(struct session *s)
{
    while (session_out_peek(s))
        json_decref(next_msg(s));
}

/* Connects a new session, consumes its welcome, and signs it in as `name`. */
static struct session *signed_in(struct fixture *fx, const char *name)
{
    struct session *s = session_new(&fx->srv, &fx->conns[fx->n]);
    char req[128];
    json_t *w;

    assert_non_null(s);
    fx->s[fx->n++] = s;
    chat_session_opened(&fx->srv, s);
    w = expect_event(s, "welcome");
    json_decref(w);
    snprintf(req, sizeof(req), "{\"type\":\"hello\",\"id\":1,\"name\":\"%s\"}", name);
    json_decref(expect_ok(fx, s, 1, req));
    return s;
}

static struct room *table_room(struct fixture *fx)
{
    struct room *r = room_find(&fx->srv.rooms, ROOM);

    assert_non_null(r);
    return r;
}

static struct game *table(struct fixture *fx)
{
    return table_room(fx)->game;
}

/* ann creates a 2-round, 10-second quiz room r1 that bob joins, and the room is a cluster's:
 * its game is shared through the fake cluster. cid stays in the lobby. Queues drained. */
static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct config cfg;
    json_t *r;

    default_config(&cfg);
    fx->cfg = cfg;
    fake_sync_reset();
    fake_transport_reset(1000000, NULL);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);
    fx->srv.wall_ms = fake_clock_ms;
    fx->srv.mono_ms = fake_clock_ms;
    fx->srv.bank = &fake_bank;
    fx->srv.game_sync = &fake_sync_ops;
    *state = fx;

    fx->ann = signed_in(fx, "ann");
    fx->bob = signed_in(fx, "bob");
    fx->cid = signed_in(fx, "cid");
    r = expect_ok(fx, fx->ann, 2,
                  "{\"type\":\"create\",\"id\":2,\"name\":\"Quiz\",\"game\":\"quiz\","
                  "\"rounds\":2,\"seconds\":10}");
    assert_string_equal(str(json_object_get(r, "room"), "id"), ROOM);
    json_decref(r);
    table_room(fx)->shared = true;
    assert_true(game_is_shared(table(fx)));
    json_decref(expect_ok(fx, fx->bob, 3, "{\"type\":\"join\",\"id\":3,\"room\":\"" ROOM "\"}"));
    json_decref(expect_ok(fx, fx->cid, 3, "{\"type\":\"join\",\"id\":3,\"room\":\"lobby\"}"));
    drain(fx->ann);
    drain(fx->bob);
    drain(fx->cid);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    /* what a failed test left pending is answered as a cluster out of reach would, while the
     * sessions are there (a start's reply owns memory); what that calls again is dropped */
    fake_sync.missed_fails_at_once = false;
    for (int k = 0; k < 50 && fake_sync.n; k++)
        answer_call(&fx->srv, fake_sync.q[0].op, fake_sync.q[0].op == OP_TAKEOVER ? 0 : -1, NULL);
    for (int i = 0; i < fx->n; i++) {
        if (fx->s[i]) {
            chat_session_closed(&fx->srv, fx->s[i]);
            session_free(fx->s[i]);
        }
    }
    fake_sync_reset();
    chat_stop_timers(&fx->srv);
    server_destroy(&fx->srv);
    free(fx);
    return 0;
}

/* ---- steps as the cluster hands them over */

/* A checkpoint (shared.c checkpoint_text) of the 2-round game ann and bob play, at `round` in
 * `phase`. */
static json_t *checkpoint(struct fixture *fx, int round, const char *phase)
{
    json_t *players = json_array();
    struct session *who[] = {fx->ann, fx->bob};
    int64_t now = fake_clock_ms();

    for (int i = 0; i < 2; i++)
        json_array_append_new(players, json_pack("{s:I, s:s, s:I, s:i, s:i, s:i, s:I, s:b}", "seat",
                                                 (json_int_t)who[i]->seat, "name", who[i]->name,
                                                 "user", (json_int_t)0, "score", 0, "delta", 0,
                                                 "choice", -1, "at", (json_int_t)0, "present", 1));
    return json_pack("{s:i, s:i, s:i, s:s, s:I, s:I, s:I, s:[i, i], s:o}", "round", round, "rounds",
                     2, "seconds", 10, "phase", phase, "started", (json_int_t)now, "deadline",
                     (json_int_t)(now + 10000), "next", (json_int_t)0, "questions", 1, 2, "players",
                     players);
}

/* Step number `n` with checkpoint `cp` (stolen; NULL: the game is over) and one event that
 * says which step it is: {"type":"question","room":"r1","step":n}. */
static json_t *step_json(json_int_t n, json_t *cp)
{
    return json_pack("{s:I, s:o, s:[{s:s, s:s, s:I}]}", "n", n, "cp", cp ? cp : json_null(), "ev",
                     "type", "question", "room", ROOM, "step", n);
}

/* A running game's step `n` at round 1, as most tests publish it. */
static json_t *running_step(struct fixture *fx, json_int_t n)
{
    return step_json(n, checkpoint(fx, 1, "question"));
}

/* The owner published `step` (stolen) under `epoch`: room_kind.synced, as the cluster calls it. */
static void synced(struct fixture *fx, int64_t epoch, json_t *step)
{
    struct room *r = table_room(fx);

    assert_non_null(step);
    r->kind->synced(r->game, epoch, step);
    json_decref(step);
}

/* The link is back: room_kind.relinked. */
static void relinked(struct fixture *fx)
{
    struct room *r = table_room(fx);

    r->kind->relinked(r->game);
}

/* The next message of `s` is step `n`'s event. */
static void expect_step(struct session *s, json_int_t n)
{
    json_t *ev = expect_event(s, "question");

    assert_string_equal(str(ev, "room"), ROOM);
    if (num(ev, "step") != n)
        fail_msg("%s: expected the event of step %lld, got step %lld", s->name, (long long)n,
                 (long long)num(ev, "step"));
    json_decref(ev);
}

/* Both players get step `n`'s event, and cid (not at the table) nothing. */
static void both_get_step(struct fixture *fx, json_int_t n)
{
    expect_step(fx->ann, n);
    expect_step(fx->bob, n);
    expect_empty(fx->cid);
}

static void nobody_gets_anything(struct fixture *fx)
{
    expect_empty(fx->ann);
    expect_empty(fx->bob);
    expect_empty(fx->cid);
}

/* The log the cluster keeps, [[epoch, step], ...], of steps `from`..`to` of a running game. */
static json_t *step_log(struct fixture *fx, int64_t epoch, json_int_t from, json_int_t to)
{
    json_t *log = json_array();

    for (json_int_t n = from; n <= to; n++)
        json_array_append_new(log, json_pack("[I, o]", (json_int_t)epoch, running_step(fx, n)));
    return log;
}

/* Answers the pending `missed` with `log` (stolen). */
static void answer_missed(struct fixture *fx, json_t *log)
{
    answer_call(&fx->srv, OP_MISSED, 1, log);
    json_decref(log);
}

/* ---- the tests */

/* 1. A replica follows a step another node published: the members here get its events once,
 * in order, and the replica holds the game; the same step heard again (same n) is ignored. */
static void test_shared_replica_follows_a_step_once(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);
    json_t *step =
        json_pack("{s:I, s:o, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i, s:i}]}", "n", (json_int_t)1, "cp",
                  checkpoint(fx, 1, "question"), "ev", "type", "game_started", "room", ROOM,
                  "rounds", 2, "type", "question", "room", ROOM, "round", 1, "of", 2);
    json_t *ev;

    json_incref(step);
    synced(fx, EPOCH, step); /* takes one reference */
    for (int i = 0; i < 2; i++) {
        struct session *s = i ? fx->bob : fx->ann;
        json_decref(expect_event(s, "game_started"));
        ev = expect_event(s, "question");
        assert_int_equal(num(ev, "round"), 1);
        json_decref(ev);
    }
    nobody_gets_anything(fx);
    assert_int_equal(g->step_n, 1);
    assert_int_equal(g->epoch, EPOCH);
    assert_false(g->owner);
    assert_int_equal(g->quiz.phase, QUIZ_QUESTION);
    assert_int_equal(g->quiz.nplayers, 2);

    /* heard twice (the channel, then a log read): nothing more */
    synced(fx, EPOCH, step);
    nobody_gets_anything(fx);
    assert_int_equal(g->step_n, 1);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);
}

/* 2. A step from an older epoch than one followed already comes from an owner the cluster
 * fenced off: ignored, though its number is new, and the replica keeps its state. */
static void test_shared_step_from_an_older_epoch_is_fenced_off(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    synced(fx, EPOCH - 1, step_json(2, checkpoint(fx, 2, "question")));
    nobody_gets_anything(fx);
    assert_int_equal(g->step_n, 1);
    assert_int_equal(g->epoch, EPOCH);
    assert_int_equal(g->quiz.round, 1); /* not the stale checkpoint's round 2 */

    /* the same number from the current owner is followed */
    synced(fx, EPOCH, step_json(2, checkpoint(fx, 2, "question")));
    both_get_step(fx, 2);
    assert_int_equal(g->step_n, 2);
    assert_int_equal(g->quiz.round, 2);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);
}

/* 3. A gap: after step 1, step 3 comes. Nothing is delivered yet and the missed steps are read
 * once; step 4 coming meanwhile waits. The log [1, 2, 3] answers: the members get 2, 3, then
 * 4, in order, each once. */
static void test_shared_gap_reads_the_missed_steps_and_delivers_in_order(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    synced(fx, EPOCH, running_step(fx, 3));
    nobody_gets_anything(fx);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
    assert_int_equal(pending(OP_MISSED), 1);
    assert_string_equal(fake_sync.q[0].room, ROOM);
    assert_int_equal(g->step_n, 1);

    synced(fx, EPOCH, running_step(fx, 4)); /* while the log is read */
    nobody_gets_anything(fx);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);

    answer_missed(fx, step_log(fx, EPOCH, 1, 3));
    for (json_int_t n = 2; n <= 4; n++)
        both_get_step(fx, n);
    nobody_gets_anything(fx); /* no repeats, and no snapshot: nothing was lost */
    assert_int_equal(g->step_n, 4);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
    assert_int_equal(fake_sync.n, 0);

    /* caught up: the next step is followed at once */
    synced(fx, EPOCH, running_step(fx, 5));
    both_get_step(fx, 5);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
}

/* 4a. The link comes back on a game followed here: the steps missed meanwhile are read (once,
 * however often it is told) and delivered. */
static void test_shared_relinked_reads_the_missed_steps(void **state)
{
    struct fixture *fx = *state;

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    relinked(fx);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
    relinked(fx); /* told again while reading */
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
    nobody_gets_anything(fx);

    answer_missed(fx, step_log(fx, EPOCH, 1, 2));
    both_get_step(fx, 2);
    nobody_gets_anything(fx);
    assert_int_equal(table(fx)->step_n, 2);
}

/* 4b. A game never followed here (step_n 0) reads nothing on a relink: the running games' list
 * restores it. */
static void test_shared_relinked_without_a_followed_game_reads_nothing(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(table(fx)->step_n, 0);
    relinked(fx);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);
    assert_int_equal(fake_sync.n, 0);
    nobody_gets_anything(fx);
}

/* 5. The log no longer reaches back (a cluster that lost its data): after step 1 it holds only
 * step 5. Step 5's events go out, then the game as it is now (a `game` snapshot), once. */
static void test_shared_log_with_a_hole_sends_a_snapshot(void **state)
{
    struct fixture *fx = *state;
    json_t *log, *ev;

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    synced(fx, EPOCH, step_json(5, checkpoint(fx, 2, "question")));
    nobody_gets_anything(fx);
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);
    log = json_pack("[[I, o]]", (json_int_t)EPOCH, step_json(5, checkpoint(fx, 2, "question")));
    answer_missed(fx, log);
    for (int i = 0; i < 2; i++) {
        struct session *s = i ? fx->bob : fx->ann;
        expect_step(s, 5);
        ev = expect_event(s, "game");
        assert_string_equal(str(ev, "room"), ROOM);
        assert_int_equal(num(ev, "round"), 2);
        assert_string_equal(str(ev, "phase"), "question");
        json_decref(ev);
    }
    nobody_gets_anything(fx); /* step 5, held while reading, is not delivered again */
    assert_int_equal(table(fx)->step_n, 5);
}

/* 5b. A hole in the log whose last step ended the game: its events, and no snapshot of a game
 * that is not running. */
static void test_shared_log_with_a_hole_after_game_over_sends_no_snapshot(void **state)
{
    struct fixture *fx = *state;

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    relinked(fx);
    answer_missed(fx, json_pack("[[I, o]]", (json_int_t)EPOCH, step_json(5, NULL)));
    both_get_step(fx, 5);
    nobody_gets_anything(fx);
    assert_int_equal(table(fx)->quiz.phase, QUIZ_IDLE);
}

/* 6a. A "catch_up" step (the running games' list after a relink) restores a game never
 * followed here, silently: no events, no log read. */
static void test_shared_catch_up_step_restores_an_unfollowed_game_silently(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);
    json_t *step = json_pack("{s:o, s:[], s:b, s:I}", "cp", checkpoint(fx, 2, "reveal"), "ev",
                             "catch_up", 1, "n", (json_int_t)3);

    synced(fx, EPOCH, step);
    nobody_gets_anything(fx);
    assert_int_equal(g->quiz.phase, QUIZ_REVEAL);
    assert_int_equal(g->quiz.round, 2);
    assert_int_equal(g->epoch, EPOCH);
    assert_int_equal(g->step_n, 3);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);

    /* followed on from there: step 4 is no gap */
    synced(fx, EPOCH, running_step(fx, 4));
    both_get_step(fx, 4);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);
}

/* 6b. On a node that followed the game, a "catch_up" step is ignored (relinked reads what was
 * missed, events included): no state change, no events, no log read. */
static void test_shared_catch_up_step_is_ignored_on_a_followed_game(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    synced(fx, EPOCH,
           json_pack("{s:o, s:[], s:b, s:I}", "cp", checkpoint(fx, 2, "reveal"), "ev", "catch_up",
                     1, "n", (json_int_t)5));
    nobody_gets_anything(fx);
    assert_int_equal(g->step_n, 1);
    assert_int_equal(g->quiz.round, 1);
    assert_int_equal(g->quiz.phase, QUIZ_QUESTION);
    assert_int_equal(fake_sync.calls[OP_MISSED], 0);
    assert_int_equal(fake_sync.n, 0);
}

/* The step the cluster publishes for a begin or a step call: number after + 1, the call's
 * checkpoint and events. */
static json_t *published(const struct fake_call *c)
{
    json_t *cp = c->checkpoint ? json_loads(c->checkpoint, 0, NULL) : json_null();
    json_t *ev = json_loads(c->events, 0, NULL);

    assert_non_null(cp);
    assert_non_null(ev);
    return json_pack("{s:I, s:o, s:o}", "n", (json_int_t)(c->after + 1), "cp", cp, "ev", ev);
}

/* 7. The owner: the host starts, begin is asked with the step after the newest followed here;
 * the step comes back on the channel before begin's reply and waits, so the host gets the ok
 * before game_started and the question. */
static void test_shared_start_reply_comes_before_the_events(void **state)
{
    struct fixture *fx = *state;
    struct game *g = table(fx);
    struct fake_call c;
    json_t *cp, *ev;

    /* a game played here before ended at step 4 */
    synced(fx, EPOCH, step_json(4, NULL));
    both_get_step(fx, 4);
    assert_int_equal(g->quiz.phase, QUIZ_IDLE);

    send_text(fx, fx->ann, "{\"type\":\"start\",\"id\":9,\"room\":\"" ROOM "\"}");
    nobody_gets_anything(fx);
    assert_int_equal(fake_sync.calls[OP_BEGIN], 1);
    assert_int_equal(fake_sync.n, 1);
    c = fake_sync.q[0];
    assert_int_equal(c.op, OP_BEGIN);
    assert_string_equal(c.room, ROOM);
    assert_int_equal(c.after, 4);
    assert_int_equal(c.open_round, 1);
    assert_int_equal(c.deadline_ms, fake_clock_ms() + 10000);
    cp = json_loads(c.checkpoint, 0, NULL);
    assert_non_null(cp);
    assert_int_equal(num(cp, "round"), 1);
    assert_int_equal(json_array_size(json_object_get(cp, "players")), 2);
    json_decref(cp);
    ev = json_loads(c.events, 0, NULL);
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(str(json_array_get(ev, 0), "type"), "game_started");
    assert_string_equal(str(json_array_get(ev, 1), "type"), "question");
    json_decref(ev);

    /* the cluster publishes the step (epoch 8); it comes back before begin's reply */
    synced(fx, EPOCH + 1, published(&c));
    nobody_gets_anything(fx);

    answer_call(&fx->srv, OP_BEGIN, EPOCH + 1, NULL);
    expect_ok_msg(fx->ann, 9);
    for (int i = 0; i < 2; i++) {
        struct session *s = i ? fx->bob : fx->ann;
        json_decref(expect_event(s, "game_started"));
        ev = expect_event(s, "question");
        assert_int_equal(num(ev, "round"), 1);
        json_decref(ev);
    }
    nobody_gets_anything(fx);
    assert_true(g->owner);
    assert_int_equal(g->epoch, EPOCH + 1);
    assert_int_equal(g->step_n, 5);
    assert_int_equal(g->quiz.phase, QUIZ_QUESTION);
    assert_int_equal(fx->srv.games_running, 1);
    assert_non_null(fake_timers_find(&g->timer)); /* the owner runs the deadline */
    assert_int_equal(fake_timers_find(&g->timer)->due_ms, fake_clock_ms() + 10000);
    assert_non_null(fake_timers_find(&g->lease_timer));
}

/* 7b. The other order: begin's reply first, then the step; the ok still comes first and the
 * events once. */
static void test_shared_start_reply_then_step(void **state)
{
    struct fixture *fx = *state;
    struct fake_call c;

    send_text(fx, fx->ann, "{\"type\":\"start\",\"id\":9,\"room\":\"" ROOM "\"}");
    assert_int_equal(fake_sync.n, 1);
    c = fake_sync.q[0];
    assert_int_equal(c.after, 0);
    answer_call(&fx->srv, OP_BEGIN, EPOCH, NULL); /* frees the queue's copies: c's are stale */
    expect_ok_msg(fx->ann, 9);
    nobody_gets_anything(fx);
    assert_true(table(fx)->owner);

    /* published as step 1 */
    synced(fx, EPOCH,
           json_pack("{s:I, s:o, s:[{s:s, s:s}, {s:s, s:s}]}", "n", (json_int_t)1, "cp",
                     checkpoint(fx, 1, "question"), "ev", "type", "game_started", "room", ROOM,
                     "type", "question", "room", ROOM));
    for (int i = 0; i < 2; i++) {
        struct session *s = i ? fx->bob : fx->ann;
        json_decref(expect_event(s, "game_started"));
        json_decref(expect_event(s, "question"));
    }
    nobody_gets_anything(fx);
    assert_true(table(fx)->owner); /* its own step: still the owner */
    assert_int_equal(table(fx)->step_n, 1);
}

/* 7c. An answer here: a step that comes while its reply waits for the cluster waits too, for
 * every member, so the player gets the ok before the reveal. */
static void test_shared_answer_reply_comes_before_the_steps_meanwhile(void **state)
{
    struct fixture *fx = *state;

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);

    send_text(fx, fx->ann,
              "{\"type\":\"answer\",\"id\":11,\"room\":\"" ROOM "\",\"round\":1,\"choice\":2}");
    assert_int_equal(fake_sync.n, 1);
    assert_int_equal(fake_sync.q[0].op, OP_ANSWER);
    assert_int_equal(fake_sync.q[0].seat, fx->ann->seat);
    assert_int_equal(fake_sync.q[0].round, 1);
    assert_int_equal(fake_sync.q[0].choice, 2);

    synced(fx, EPOCH, running_step(fx, 2)); /* the reveal, say */
    nobody_gets_anything(fx);

    answer_call(&fx->srv, OP_ANSWER, GAME_SYNC_ANSWER_OK, NULL);
    expect_ok_msg(fx->ann, 11);
    both_get_step(fx, 2);
    nobody_gets_anything(fx);
}

/* 8. The link goes down while the missed steps are read: the cluster answers -1, and every
 * read asked while it is down fails before it returns (games.c run(): link_command fails). The
 * catch-up must not ask again and again on the spot; once the link is back, relinked reads the
 * log and the members get the missed steps in order, once. */
static void test_shared_failed_catch_up_does_not_loop(void **state)
{
    struct fixture *fx = *state;

    synced(fx, EPOCH, running_step(fx, 1));
    both_get_step(fx, 1);
    synced(fx, EPOCH, running_step(fx, 3)); /* a gap: the log is read */
    assert_int_equal(fake_sync.calls[OP_MISSED], 1);

    /* the link drops: the pending read fails, and so does any read asked now */
    fake_sync.missed_fails_at_once = true;
    answer_call(&fx->srv, OP_MISSED, -1, NULL);
    if (fake_sync.calls[OP_MISSED] > 2)
        fail_msg("a failed read of the missed steps was asked again %d times on the spot "
                 "(the fake stopped failing at once at depth %d: unbounded recursion otherwise)",
                 fake_sync.calls[OP_MISSED] - 1, FAKE_SYNC_DEPTH);
    nobody_gets_anything(fx);

    /* the link is back */
    fake_sync.missed_fails_at_once = false;
    relinked(fx);
    assert_int_equal(pending(OP_MISSED), 1);
    answer_missed(fx, step_log(fx, EPOCH, 1, 3));
    both_get_step(fx, 2);
    both_get_step(fx, 3);
    nobody_gets_anything(fx);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_shared_replica_follows_a_step_once),
        T(test_shared_step_from_an_older_epoch_is_fenced_off),
        T(test_shared_gap_reads_the_missed_steps_and_delivers_in_order),
        T(test_shared_relinked_reads_the_missed_steps),
        T(test_shared_relinked_without_a_followed_game_reads_nothing),
        T(test_shared_log_with_a_hole_sends_a_snapshot),
        T(test_shared_log_with_a_hole_after_game_over_sends_no_snapshot),
        T(test_shared_catch_up_step_restores_an_unfollowed_game_silently),
        T(test_shared_catch_up_step_is_ignored_on_a_followed_game),
        T(test_shared_start_reply_comes_before_the_events),
        T(test_shared_start_reply_then_step),
        T(test_shared_answer_reply_comes_before_the_steps_meanwhile),
        T(test_shared_failed_catch_up_does_not_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
