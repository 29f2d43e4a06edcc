/* A quiz table's state and what it sends (see table.h). Loop thread only, except the results
 * job's run(), which runs on a worker and touches only its job. */
#include "table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "proto.h"
#include "qbank.h"
#include "room.h"
#include "server.h"
#include "session.h"
#include "store.h"

bool game_is_shared(const struct game *g)
{
    return g->srv->game_sync && g->room->shared;
}

static const char *shared_host(const struct game *g)
{
    const struct room *r = g->room;
    const char *best = NULL;
    int64_t best_since = INT64_MAX;

    /* the member who came first; names break a tie (every node must pick the same one) */
    for (int i = 0; i < r->nmembers; i++)
        if (r->since[i] < best_since ||
            (r->since[i] == best_since && strcmp(r->members[i]->name, best) < 0)) {
            best = r->members[i]->name;
            best_since = r->since[i];
        }
    for (int i = 0; i < r->nremote; i++)
        if (r->remote[i].since < best_since ||
            (r->remote[i].since == best_since && strcmp(r->remote[i].name, best) < 0)) {
            best = r->remote[i].name;
            best_since = r->remote[i].since;
        }
    return best;
}

/* Keeps srv->games_running (the figures' games gauge) in step with this game's phase: called
 * after each call that can start or end it. A shared game counts on its owner's node only. */
void game_recount(struct game *g)
{
    bool now = g->quiz.phase != QUIZ_IDLE && (g->owner || !game_is_shared(g));

    if (now != g->counted) {
        g->srv->games_running += now ? 1 : -1;
        g->counted = now;
    }
}

const char *game_host(const struct game *g)
{
    if (game_is_shared(g))
        return shared_host(g);
    return g->room->nmembers ? g->room->members[0]->name : NULL;
}

/* The standings in two new arrays (free `*order`; rank shares its allocation). */
static int standings(const struct quiz *q, int **order, int **rank)
{
    *order = malloc(2 * (size_t)(q->nplayers + 1) * sizeof(int));
    if (!*order)
        return -1;
    *rank = *order + q->nplayers + 1;
    quiz_standings(q, *order, *rank);
    return 0;
}

/* [{name, score, delta?, rank?}] in standing order. */
json_t *game_scores_json(const struct quiz *q, bool with_delta, bool with_rank)
{
    int *order, *rank;
    json_t *a = json_array();

    if (standings(q, &order, &rank))
        return a;
    for (int k = 0; k < q->nplayers; k++) {
        const struct quiz_player *p = &q->players[order[k]];
        json_t *o = json_pack("{s:s, s:i}", "name", p->name, "score", p->score);
        if (with_delta)
            json_object_set_new(o, "delta", json_integer(p->delta));
        if (with_rank)
            json_object_set_new(o, "rank", json_integer(rank[k]));
        json_array_append_new(a, o);
    }
    free(order);
    return a;
}

json_t *game_question_json(const struct quiz_question *qq)
{
    json_t *o = json_pack("{s:s, s:[s,s,s,s]}", "text", qq->text, "choices", qq->choices[0],
                          qq->choices[1], qq->choices[2], qq->choices[3]);

    if (o && qq->lang)
        json_object_set_new(o, "lang", json_string(qq->lang));
    return o;
}

json_t *game_question_event(const struct quiz *q, const char *room)
{
    json_t *ev = json_pack("{s:s, s:s, s:i, s:i}", "type", "question", "room", room, "round",
                           q->round, "of", q->rounds);

    json_t *text = game_question_json(q->questions[q->round - 1]);

    json_object_update(ev, text); /* copies the fields: drop our reference */
    json_decref(text);
    json_object_set_new(ev, "deadline", json_integer(q->deadline_ms));
    return ev;
}

json_t *game_started_event(const struct quiz *q, const char *room)
{
    json_t *players = json_array();

    for (int i = 0; i < q->nplayers; i++)
        json_array_append_new(players, json_string(q->players[i].name));
    return json_pack("{s:s, s:s, s:i, s:i, s:o}", "type", "game_started", "room", room, "rounds",
                     q->rounds, "seconds", q->seconds, "players", players);
}

json_t *game_reveal_event(const struct quiz *q, const char *room)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:o}", "type", "reveal", "room", room, "round", q->round,
                     "correct", q->questions[q->round - 1]->correct, "scores",
                     game_scores_json(q, true, false));
}

json_t *game_over_event(const struct quiz *q, const char *room)
{
    return json_pack("{s:s, s:s, s:o}", "type", "game_over", "room", room, "ranking",
                     game_scores_json(q, false, true));
}

/* ---- results: one transaction on the pool ---- */

struct results_job {
    struct pool_job job;
    char room[ROOM_ID_LEN];
    int64_t started, ended;
    int rounds, n;
    struct store_result *results;
    char (*names)[QUIZ_NAME_MAX + 1];
};

static void results_run(struct pool_job *job, void *worker)
{
    struct results_job *j = (struct results_job *)job;

    store_job_result(
        job, worker,
        store_save_game(worker, j->room, j->started, j->ended, j->rounds, j->results, j->n));
}

static void results_done(struct pool_job *job, void *loop_arg)
{
    struct results_job *j = (struct results_job *)job;

    free(j->results);
    free(j->names);
    free(j);
}

static void save_results(struct game *g, const int *order, const int *rank)
{
    const struct quiz *q = &g->quiz;
    struct results_job *j;

    if (!g->srv->pool)
        return;
    j = calloc(1, sizeof(*j));
    if (!j || !(j->results = calloc((size_t)q->nplayers + 1, sizeof(*j->results))) ||
        !(j->names = calloc((size_t)q->nplayers + 1, sizeof(*j->names)))) {
        if (j)
            free(j->results);
        free(j);
        log_error("game in %s: out of memory saving results", g->room->id);
        return;
    }
    j->job.run = results_run;
    j->job.done = results_done;
    j->job.failure = "a game's results could not be saved";
    memcpy(j->room, g->room->id, sizeof(j->room));
    j->started = q->started_ms;
    j->ended = g->srv->wall_ms();
    j->rounds = q->rounds;
    j->n = q->nplayers;
    for (int k = 0; k < q->nplayers; k++) {
        const struct quiz_player *p = &q->players[order[k]];
        memcpy(j->names[k], p->name, sizeof(j->names[k]));
        j->results[k] = (struct store_result){
            .name = j->names[k], .user_id = p->user_id, .score = p->score, .rank = rank[k]};
    }
    if (pool_submit(g->srv->pool, &j->job)) {
        log_error("game in %s: the pool refused its results; they are lost", g->room->id);
        results_done(&j->job, NULL);
    }
}

/* ---- phases ---- */

void game_save_results(struct game *g)
{
    int *order, *rank;

    if (!standings(&g->quiz, &order, &rank)) {
        save_results(g, order, rank);
        free(order);
    }
}

int game_begin_quiz(struct game *g, struct quiz *q, struct session *s, const struct proto_req *req)
{
    struct server *srv = g->srv;
    const struct room *r = g->room;
    int n = r->nmembers + r->nremote, np = 0, rc = -1;
    const struct quiz_question **qs = calloc((size_t)g->rounds, sizeof(*qs));
    const char **names = calloc((size_t)n + 1, sizeof(*names));
    int64_t *uids = calloc((size_t)n + 1, sizeof(*uids));
    uint64_t *seats = calloc((size_t)n + 1, sizeof(*seats));

    if (!qs || !names || !uids || !seats) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
        goto out;
    }
    if (!srv->bank || qbank_draw(srv->bank, g->rounds, qs, &srv->rng)) {
        session_reply_error(s, req->re, PROTO_E_GAME_STATE, NULL, "%s",
                            "the question bank holds too few questions");
        goto out;
    }
    for (int i = 0; i < r->nmembers; i++, np++) {
        seats[np] = r->members[i]->seat;
        names[np] = r->members[i]->name;
        uids[np] = r->members[i]->user_id;
    }
    for (int i = 0; i < r->nremote; i++) {
        int k;
        for (k = 0; k < np && seats[k] != r->remote[i].seat; k++)
            ;
        if (k < np)
            continue;
        seats[np] = r->remote[i].seat;
        names[np] = r->remote[i].name;
        uids[np++] = r->remote[i].user_id;
    }
    rc = quiz_begin(q, g->rounds, g->seconds, qs, seats, names, uids, np, srv->wall_ms());
    if (rc)
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
out:
    free(qs);
    free(names);
    free(uids);
    free(seats);
    return rc;
}
