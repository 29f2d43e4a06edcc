/*
 * Quiz rooms (see game.h). Loop thread only, except the results and leaderboard jobs' run(),
 * which run on workers and touch only their job.
 */
#include "game.h"
#include "shared.h"

#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "log.h"
#include "oplog.h"
#include "pool.h"
#include "proto.h"
#include "qbank.h"
#include "room.h"
#include "server.h"
#include "session.h"
#include "store.h"

static void on_timer(loop_timer *sul);

struct game *game_new(struct server *srv, struct room *room, int rounds, int seconds)
{
    struct game *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->srv = srv;
    g->room = room;
    g->rounds = rounds;
    g->seconds = seconds;
    return g;
}

void game_free(struct game *g)
{
    if (!g)
        return;
    g->srv->ops->cancel(g->srv->transport, &g->timer);
    shared_stop(g);
    quiz_end(&g->quiz);
    game_recount(g);
    free(g);
}

static bool playing(const struct game *g)
{
    return g->quiz.phase != QUIZ_IDLE;
}

static void schedule_at(struct game *g, int64_t when_ms)
{
    int64_t us = (when_ms - g->srv->wall_ms()) * 1000;

    g->srv->ops->schedule(g->srv->transport, &g->timer, on_timer, us > 0 ? us : 0);
}

/* Sends `ev` (stolen) to every member of the room. */
static void broadcast(struct game *g, json_t *ev)
{
    delivery_room(g->srv, g->room, ev, NULL);
}

void game_describe(const struct game *g, json_t *obj)
{
    const char *host = game_host(g);

    json_object_set_new(obj, "host", host ? json_string(host) : json_null());
    json_object_set_new(obj, "state", json_string(playing(g) ? "playing" : "waiting"));
    json_object_set_new(obj, "rounds", json_integer(g->rounds));
    json_object_set_new(obj, "seconds", json_integer(g->seconds));
}

static void send_question(struct game *g)
{
    broadcast(g, game_question_event(&g->quiz, g->room->id));
    schedule_at(g, g->quiz.deadline_ms);
}

json_t *game_snapshot(const struct game *g)
{
    const struct quiz *q = &g->quiz;
    json_t *o, *players;

    if (!playing(g))
        return NULL;
    players = json_array();
    for (int i = 0; i < q->nplayers; i++)
        json_array_append_new(players, json_string(q->players[i].name));
    o = json_pack("{s:i, s:i, s:s, s:o, s:I, s:o, s:o}", "round", q->round, "of", q->rounds,
                  "phase", q->phase == QUIZ_QUESTION ? "question" : "reveal", "question",
                  game_question_json(q->questions[q->round - 1]), "deadline",
                  (json_int_t)q->deadline_ms, "scores", game_scores_json(q, false, false),
                  "players", players);
    if (q->phase == QUIZ_REVEAL)
        json_object_set_new(o, "correct", json_integer(q->questions[q->round - 1]->correct));
    return o;
}

static void game_over(struct game *g)
{
    broadcast(g, game_over_event(&g->quiz, g->room->id));
    game_save_results(g);
    quiz_end(&g->quiz);
    game_recount(g);
}

static void reveal(struct game *g)
{
    struct quiz *q = &g->quiz;

    g->srv->ops->cancel(g->srv->transport, &g->timer);
    quiz_reveal(q);
    broadcast(g, game_reveal_event(q, g->room->id));
    schedule_at(g, g->srv->wall_ms() + g->srv->cfg.quiz_reveal_ms);
}

/* The deadline of an open question, or the end of a reveal's pause. */
static void on_timer(loop_timer *sul)
{
    struct game *g = timer_owner(sul, struct game, timer);

    if (g->quiz.phase == QUIZ_QUESTION) {
        reveal(g);
        return;
    }
    if (g->quiz.phase != QUIZ_REVEAL)
        return;
    if (quiz_next(&g->quiz, g->srv->wall_ms()))
        send_question(g);
    else
        game_over(g);
}

/* ---- requests ---- */

void game_start(struct game *g, struct session *s, const struct proto_req *req)
{
    struct server *srv = g->srv;
    struct room *r = g->room;
    const char *host = game_host(g);

    /* the same refusals whether the game is this node's or the cluster's */
    if (!host || strcmp(host, s->name)) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "%s",
                            "only the host can start a game");
        return;
    }
    if (playing(g)) {
        session_reply_error(s, req->re, PROTO_E_GAME_STATE, NULL, "%s",
                            "a game is already running");
        return;
    }
    if (srv->draining) {
        session_reply_error(s, req->re, PROTO_E_GAME_STATE, NULL, "%s",
                            "the server is shutting down");
        return;
    }
    if (game_is_shared(g)) {
        shared_start(g, s, req);
        return;
    }
    if (game_begin_quiz(g, &g->quiz, s, req))
        return;
    game_recount(g);
    session_send_json(s, proto_ok(req));
    broadcast(g, game_started_event(&g->quiz, r->id));
    send_question(g);
}

void game_answer(struct game *g, struct session *s, const struct proto_req *req)
{
    static const char *const why[] = {
        [QUIZ_ANSWER_NO_GAME] = "no question is open",
        [QUIZ_ANSWER_NOT_PLAYER] = "you are watching this game; you play from the next one",
        [QUIZ_ANSWER_WRONG_ROUND] = "that is not the open round",
        [QUIZ_ANSWER_LATE] = "too late: the time is up",
        [QUIZ_ANSWER_TWICE] = "you already answered this round",
    };
    enum quiz_answer_result rc;

    if (game_is_shared(g)) {
        shared_answer(g, s, req);
        return;
    }
    rc = quiz_answer(&g->quiz, s->seat, req->round, req->choice, g->srv->wall_ms());
    if (rc != QUIZ_ANSWER_OK) {
        session_reply_error(s, req->re,
                            rc == QUIZ_ANSWER_NOT_PLAYER ? PROTO_E_NOT_ALLOWED : PROTO_E_GAME_STATE,
                            NULL, "%s", why[rc]);
        return;
    }
    session_send_json(s, proto_ok(req));
    if (quiz_all_answered(&g->quiz))
        reveal(g);
}

void game_member_left(struct game *g, struct session *s, bool was_host)
{
    struct room *r = g->room;

    if (game_is_shared(g)) {
        shared_roster_changed(g);
        return;
    }
    if (was_host && r->nmembers)
        broadcast(g, json_pack("{s:s, s:s, s:s}", "type", "host", "room", r->id, "name",
                               r->members[0]->name));
    if (!playing(g))
        return;
    quiz_player_left(&g->quiz, s->seat);
    if (quiz_all_answered(&g->quiz) && quiz_present(&g->quiz))
        reveal(g); /* the others need not wait for the one who left */
}

/* ---- leaderboard: a read on the pool ---- */

struct board_job {
    struct pool_job job;
    uint64_t session_id;
    struct proto_re re;
    int limit;
    int64_t user_id; /* the asker's account, or 0 for a guest */
    json_t *entries;
    json_t *me; /* the account's place, or NULL */
};

static void board_run(struct pool_job *job, void *worker)
{
    struct board_job *j = (struct board_job *)job;

    j->entries = store_leaderboard(worker, j->limit);
    if (j->entries && j->user_id > 0)
        j->me = store_rank(worker, j->user_id);
    job->status = j->entries && (j->me || j->user_id <= 0) ? 0 : -1;
}

static void board_done(struct pool_job *job, void *loop_arg)
{
    struct board_job *j = (struct board_job *)job;
    struct session *s = session_by_id(loop_arg, j->session_id);
    struct proto_req req = {.re = j->re};

    if (s && !s->closing) {
        if (job->status) {
            session_reply_error(s, req.re, PROTO_E_INTERNAL, NULL, "%s",
                                "the leaderboard could not be read");
        } else {
            json_t *ok = proto_ok(&req);
            json_object_set(ok, "entries", j->entries);
            if (j->me && !json_is_null(j->me))
                json_object_set(ok, "me", j->me);
            session_send_json(s, ok);
        }
    }
    json_decref(j->entries);
    json_decref(j->me);
    free(j);
}

void game_leaderboard(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct board_job *j;

    if (!srv->pool) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "no database");
        return;
    }
    j = calloc(1, sizeof(*j));
    if (!j) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
        return;
    }
    *j = (struct board_job){.job = {.run = board_run,
                                    .done = board_done,
                                    .failure = "the leaderboard could not be read"},
                            .session_id = s->id,
                            .re = req->re,
                            .limit = req->limit ? req->limit : 10,
                            .user_id = s->user_id};
    if (pool_submit(srv->pool, &j->job)) {
        free(j);
        session_reply_error(s, req->re, PROTO_E_SERVER_BUSY, NULL, "%s",
                            "the server is busy; retry shortly");
    }
}

/* ---- the quiz as a room kind (room.h): how the chat service reaches it ---- */

static void kind_describe(const void *state, json_t *room_obj)
{
    game_describe(state, room_obj);
}

static json_t *kind_snapshot(const void *state)
{
    return game_snapshot(state);
}

static void kind_request(void *state, struct session *s, const struct proto_req *req)
{
    if (req->type == PROTO_START)
        game_start(state, s, req);
    else if (req->type == PROTO_ANSWER)
        game_answer(state, s, req);
}

static void kind_member_left(void *state, struct session *s, bool was_host)
{
    game_member_left(state, s, was_host);
}

static json_t *kind_settings(const void *state)
{
    const struct game *g = state;

    return json_pack("{s:i, s:i}", "rounds", g->rounds, "seconds", g->seconds);
}

static void kind_roster_changed(void *state)
{
    if (game_is_shared(state))
        shared_roster_changed(state);
}

static void kind_synced(void *state, int64_t epoch, json_t *step)
{
    if (game_is_shared(state))
        shared_synced(state, epoch, step);
}

static void kind_answered(void *state, uint64_t seat)
{
    if (game_is_shared(state))
        shared_answered(state, seat);
}

static void kind_relinked(void *state)
{
    if (game_is_shared(state))
        shared_relinked(state);
}

static void kind_free(void *state)
{
    game_free(state);
}

const struct room_kind game_quiz_kind = {
    .name = GAME_KIND_NAME,
    .describe = kind_describe,
    .snapshot = kind_snapshot,
    .request = kind_request,
    .member_left = kind_member_left,
    .free = kind_free,
    .settings = kind_settings,
    .roster_changed = kind_roster_changed,
    .synced = kind_synced,
    .answered = kind_answered,
    .relinked = kind_relinked,
};

int game_attach(struct server *srv, struct room *room, int rounds, int seconds)
{
    struct game *g = game_new(srv, room, rounds, seconds);

    if (!g)
        return -1;
    room->kind = &game_quiz_kind;
    room->game = g;
    return 0;
}
