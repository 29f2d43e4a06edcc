/*
 * A quiz game the nodes of a cluster share (gamesync.h). The node whose host started it owns
 * it: it runs the timers and publishes each step with a checkpoint; every node, the owner's
 * too, delivers a step's events to its own members when the step comes back from the cluster
 * (room_kind.synced), so all see one order. A node that is not the owner keeps the checkpoint
 * as its replica (for joins, resumes and answers) and, while members of the room are here,
 * takes the game over when the owner's lease lapses. Answers go to the cluster, which records
 * them until the owner closes the question; the owner learns of each (room_kind.answered) only
 * to reveal early when everyone answered. Loop thread only.
 */
#include "shared.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "gamesync.h"
#include "log.h"
#include "qbank.h"
#include "room.h"
#include "server.h"
#include "session.h"

#define RETRY_MS 200 /* a step or a close the cluster could not take, tried again */

static const struct game_sync_ops *sync_of(const struct game *g)
{
    return g->srv->game_sync;
}

/* The game of room `id` here, if it is still a quiz table. */
static struct game *game_of(struct server *srv, const char *id)
{
    struct room *r = room_find(&srv->rooms, id);

    return r && r->kind && !strcmp(r->kind->name, GAME_KIND_NAME) ? r->game : NULL;
}

static int64_t now_ms(const struct game *g)
{
    return g->srv->wall_ms();
}

static void schedule(struct game *g, loop_timer *t, void (*cb)(loop_timer *), int64_t when_ms)
{
    int64_t us = (when_ms - now_ms(g)) * 1000;

    g->srv->ops->schedule(g->srv->transport, t, cb, us > 0 ? us : 0);
}

/* ---- the host and the players: the room's members on every node */

static bool seat_here(const struct room *r, uint64_t seat)
{
    for (int i = 0; i < r->nmembers; i++)
        if (r->members[i]->seat == seat)
            return true;
    for (int i = 0; i < r->nremote; i++)
        if (r->remote[i].seat == seat)
            return true;
    return false;
}

/* A player who left the room on every node is no longer waited for. */
static void refresh_presence(struct game *g)
{
    for (int i = 0; i < g->quiz.nplayers; i++)
        g->quiz.players[i].present = seat_here(g->room, g->quiz.players[i].seat);
}

/* Sends `ev` (stolen) to the room's members on this node: every node tells its own. */
static void tell_here(struct game *g, json_t *ev)
{
    struct msgbuf *m = ev ? msgbuf_from_json(ev) : NULL;

    if (m)
        delivery_local_room(g->srv, g->room, m, NULL);
    msgbuf_unref(m);
    json_decref(ev);
}

/* Every node tells its own members when the host changes: they all pick the same one. */
static void check_host(struct game *g)
{
    const char *host = game_host(g);

    /* a node closing hands its players over one by one: the host does not change for that */
    if (!host || !strcmp(host, g->host) || g->srv->stopping)
        return;
    if (g->host[0] && g->room->nmembers)
        tell_here(g,
                  json_pack("{s:s, s:s, s:s}", "type", "host", "room", g->room->id, "name", host));
    snprintf(g->host, sizeof(g->host), "%s", host);
}

/* ---- checkpoints */

static char *checkpoint_text(const struct game *g)
{
    const struct quiz *q = &g->quiz;
    json_t *qs = json_array(), *players = json_array(), *cp;
    char *text;

    for (int i = 0; i < q->rounds; i++)
        json_array_append_new(qs, json_integer(q->questions[i]->id));
    for (int i = 0; i < q->nplayers; i++) {
        const struct quiz_player *p = &q->players[i];
        json_array_append_new(
            players, json_pack("{s:I, s:s, s:I, s:i, s:i, s:i, s:I, s:b}", "seat",
                               (json_int_t)p->seat, "name", p->name, "user", (json_int_t)p->user_id,
                               "score", p->score, "delta", p->delta, "choice", p->choice, "at",
                               (json_int_t)p->answered_at, "present", p->present));
    }
    cp = json_pack("{s:i, s:i, s:i, s:s, s:I, s:I, s:I, s:o, s:o}", "round", q->round, "rounds",
                   q->rounds, "seconds", q->seconds, "phase",
                   q->phase == QUIZ_QUESTION ? "question" : "reveal", "started",
                   (json_int_t)q->started_ms, "deadline", (json_int_t)q->deadline_ms, "next",
                   (json_int_t)g->next_ms, "questions", qs, "players", players);
    text = cp ? json_dumps(cp, JSON_COMPACT) : NULL;
    json_decref(cp);
    return text;
}

/* Makes the game the checkpoint's. 0, or -1 (a question this node's bank lacks, bad JSON). */
static int restore(struct game *g, json_t *cp)
{
    struct quiz *q = &g->quiz;
    json_t *qids = json_object_get(cp, "questions"), *players = json_object_get(cp, "players");
    int rounds = (int)json_integer_value(json_object_get(cp, "rounds"));
    int n = (int)json_array_size(players), rc = -1;
    const struct quiz_question **qs = calloc((size_t)rounds + 1, sizeof(*qs));
    uint64_t *seats = calloc((size_t)n + 1, sizeof(*seats));
    const char **names = calloc((size_t)n + 1, sizeof(*names));
    int64_t *uids = calloc((size_t)n + 1, sizeof(*uids));
    const char *phase;

    if (!qs || !seats || !names || !uids || rounds < 1 || (int)json_array_size(qids) != rounds ||
        !g->srv->bank)
        goto out;
    for (int i = 0; i < rounds; i++)
        if (!(qs[i] =
                  qbank_find(g->srv->bank, json_integer_value(json_array_get(qids, (size_t)i))))) {
            log_error("game in %s: question %lld is not in this node's bank", g->room->id,
                      (long long)json_integer_value(json_array_get(qids, (size_t)i)));
            goto out;
        }
    for (int i = 0; i < n; i++) {
        json_t *p = json_array_get(players, (size_t)i);
        seats[i] = (uint64_t)json_integer_value(json_object_get(p, "seat"));
        names[i] = json_string_value(json_object_get(p, "name"));
        uids[i] = json_integer_value(json_object_get(p, "user"));
        if (!names[i])
            goto out;
    }
    if (quiz_begin(q, rounds, (int)json_integer_value(json_object_get(cp, "seconds")), qs, seats,
                   names, uids, n, json_integer_value(json_object_get(cp, "started"))))
        goto out;
    q->round = (int)json_integer_value(json_object_get(cp, "round"));
    if (q->round < 1 || q->round > rounds)
        q->round = 1;
    phase = json_string_value(json_object_get(cp, "phase"));
    q->phase = phase && !strcmp(phase, "reveal") ? QUIZ_REVEAL : QUIZ_QUESTION;
    q->deadline_ms = json_integer_value(json_object_get(cp, "deadline"));
    g->next_ms = json_integer_value(json_object_get(cp, "next"));
    for (int i = 0; i < n; i++) {
        json_t *p = json_array_get(players, (size_t)i);
        q->players[i].score = (int)json_integer_value(json_object_get(p, "score"));
        q->players[i].delta = (int)json_integer_value(json_object_get(p, "delta"));
        q->players[i].choice = (int)json_integer_value(json_object_get(p, "choice"));
        q->players[i].answered_at = json_integer_value(json_object_get(p, "at"));
        q->players[i].present = json_is_true(json_object_get(p, "present"));
    }
    rc = 0;
out:
    if (rc)
        quiz_end(q);
    free(qs);
    free(seats);
    free(names);
    free(uids);
    return rc;
}

/* ---- the owner: steps, closing a question, the lease */

static void on_phase_timer(loop_timer *t);
static void on_lease_timer(loop_timer *t);
static void reply_sent(struct game *g);
static void send_step(struct game *g);

static void clear_step(struct game *g)
{
    free(g->step_cp);
    free(g->step_ev);
    g->step_cp = g->step_ev = NULL;
}

/* Another node owns the game now (or nobody does yet): watch its lease from here. */
static void become_replica(struct game *g)
{
    if (g->owner)
        log_info("game in %s: another node took it over (epoch %lld)", g->room->id,
                 (long long)g->epoch);
    g->owner = false;
    g->busy = false;
    clear_step(g);
    g->srv->ops->cancel(g->srv->transport, &g->timer);
    g->srv->ops->cancel(g->srv->transport, &g->lease_timer);
    if (g->quiz.phase != QUIZ_IDLE)
        schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + sync_of(g)->lease_ms / 2);
    game_recount(g);
}

/* The owner's next timer: the open question's deadline, or the end of a reveal's pause. */
static void schedule_phase(struct game *g)
{
    if (g->quiz.phase == QUIZ_QUESTION)
        schedule(g, &g->timer, on_phase_timer, g->quiz.deadline_ms);
    else if (g->quiz.phase == QUIZ_REVEAL)
        schedule(g, &g->timer, on_phase_timer, g->next_ms);
}

/* The game an owner's call (a step, a close) answered, if this node still owns it under the
 * epoch it asked with (`arg`) and the answer was no failure; fenced, the node stops owning it. */
static struct game *owner_answered(struct server *srv, const char *room, int64_t result, void *arg)
{
    struct game *g = game_of(srv, room);

    if (!g || !g->owner || g->epoch != (int64_t)(intptr_t)arg)
        return NULL;
    g->busy = false;
    if (result == 0) {
        become_replica(g);
        return NULL;
    }
    if (result < 0) { /* the link is down: the same call again, shortly */
        schedule(g, &g->timer, on_phase_timer, now_ms(g) + RETRY_MS);
        return NULL;
    }
    return g;
}

static void on_stepped(struct server *srv, const char *room, int64_t result, json_t *data,
                       void *arg)
{
    struct game *g = owner_answered(srv, room, result, arg);

    (void)data;
    if (!g)
        return;
    if (g->step_over) { /* published once: the results are saved once */
        game_save_results(g);
        quiz_end(&g->quiz);
        g->srv->ops->cancel(g->srv->transport, &g->lease_timer);
        g->owner = false;
    }
    clear_step(g);
    game_recount(g);
    schedule_phase(g);
}

static void send_step(struct game *g)
{
    struct game_step step = {.checkpoint = g->step_cp,
                             .events = g->step_ev,
                             .open_round = g->step_open,
                             .deadline_ms = g->quiz.deadline_ms,
                             .after = g->step_n,
                             .id = g->step_id};

    g->busy = true;
    sync_of(g)->step(g->srv, g->room->id, g->epoch, &step, on_stepped, (void *)(intptr_t)g->epoch);
}

/* Publishes the game as it is now with `events` (stolen); `over`: its last step. */
static void publish(struct game *g, json_t *events, bool over)
{
    static uint64_t steps_made; /* a step's id: unique on this node, whatever the game */

    clear_step(g);
    g->step_id = ++steps_made;
    g->step_over = over;
    g->step_open = !over && g->quiz.phase == QUIZ_QUESTION ? g->quiz.round : 0;
    g->step_cp = over ? NULL : checkpoint_text(g);
    g->step_ev = json_dumps(events, JSON_COMPACT);
    json_decref(events);
    if (!g->step_ev || (!over && !g->step_cp)) {
        log_error("game in %s: out of memory publishing a step; the game stops", g->room->id);
        clear_step(g);
        return;
    }
    send_step(g);
}

static void on_closed(struct server *srv, const char *room, int64_t result, json_t *answers,
                      void *arg)
{
    struct game *g = owner_answered(srv, room, result, arg);
    struct quiz *q;
    size_t i;
    json_t *a;

    if (!g || g->quiz.phase != QUIZ_QUESTION)
        return;
    q = &g->quiz;
    for (int k = 0; k < q->nplayers; k++) { /* the recorded answers are the whole truth */
        q->players[k].choice = -1;
        q->players[k].answered_at = 0;
    }
    json_array_foreach(answers, i, a)
    {
        int p = quiz_player_index(q, (uint64_t)json_integer_value(json_array_get(a, 0)));
        int round = (int)json_integer_value(json_array_get(a, 1));
        int choice = (int)json_integer_value(json_array_get(a, 2));
        if (p >= 0 && round == q->round && choice >= 0 && choice < QUIZ_CHOICES) {
            q->players[p].choice = choice;
            q->players[p].answered_at = json_integer_value(json_array_get(a, 3));
        }
    }
    refresh_presence(g);
    quiz_reveal(q);
    g->next_ms = now_ms(g) + srv->cfg.quiz_reveal_ms;
    publish(g, json_pack("[o]", game_reveal_event(q, room)), false);
}

/* No answer is recorded after this; then the reveal. */
static void close_question(struct game *g)
{
    if (!g->owner || g->busy || g->quiz.phase != QUIZ_QUESTION)
        return;
    g->srv->ops->cancel(g->srv->transport, &g->timer);
    g->busy = true;
    sync_of(g)->close(g->srv, g->room->id, g->epoch, on_closed, (void *)(intptr_t)g->epoch);
}

static void on_phase_timer(loop_timer *t)
{
    struct game *g = timer_owner(t, struct game, timer);
    struct quiz *q = &g->quiz;

    if (!g->owner || g->busy)
        return;
    if (g->step_ev) { /* a step the cluster has not taken yet */
        send_step(g);
        return;
    }
    if (q->phase == QUIZ_QUESTION) {
        close_question(g);
    } else if (q->phase == QUIZ_REVEAL) {
        if (quiz_next(q, now_ms(g)))
            publish(g, json_pack("[o]", game_question_event(q, g->room->id)), false);
        else {
            /* quiz_next ended it: the ranking is of the last reveal's scores */
            q->phase = QUIZ_REVEAL;
            publish(g, json_pack("[o]", game_over_event(q, g->room->id)), true);
        }
    }
}

static void on_renewed(struct server *srv, const char *room, int64_t result, json_t *data,
                       void *arg)
{
    struct game *g = game_of(srv, room);

    (void)data;
    if (g && g->owner && g->epoch == (int64_t)(intptr_t)arg && result == 0)
        become_replica(g);
}

static void took_over(struct game *g, int64_t epoch, json_t *cp)
{
    if (restore(g, cp)) {
        log_error("game in %s: its checkpoint cannot be read here; not taken over", g->room->id);
        return;
    }
    g->owner = true;
    g->busy = false;
    g->epoch = epoch;
    log_info("game in %s: taken over at round %d (epoch %lld)", g->room->id, g->quiz.round,
             (long long)epoch);
    game_recount(g);
    schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + sync_of(g)->lease_ms / 3);
    if (g->quiz.phase == QUIZ_QUESTION && g->quiz.deadline_ms <= now_ms(g))
        close_question(g); /* answers recorded before the old owner went still count */
    else
        schedule_phase(g);
}

static void on_taken(struct server *srv, const char *room, int64_t result, json_t *cp, void *arg)
{
    struct game *g = game_of(srv, room);

    (void)arg;
    if (!g || g->owner)
        return;
    if (result > 0 && cp)
        took_over(g, result, cp);
    else if (g->quiz.phase != QUIZ_IDLE)
        schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + sync_of(g)->lease_ms / 2);
}

/* The owner renews its lease; a node with members watches for the owner's to lapse. A draining
 * node hands its games over: it gives its leases up and takes none. */
static void on_lease_timer(loop_timer *t)
{
    struct game *g = timer_owner(t, struct game, lease_timer);
    int64_t lease = sync_of(g)->lease_ms;

    if (g->owner && g->srv->draining && !g->busy) {
        log_info("game in %s: handed over (this node drains)", g->room->id);
        sync_of(g)->release(g->srv, g->room->id, g->epoch, NULL, NULL);
        become_replica(g); /* the next step comes from the new owner */
    } else if (g->owner) {
        sync_of(g)->renew(g->srv, g->room->id, g->epoch, on_renewed, (void *)(intptr_t)g->epoch);
        schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + lease / 3);
    } else if (g->quiz.phase != QUIZ_IDLE) {
        if (g->room->nmembers && !g->srv->draining) /* nobody plays here: no need to run it */
            sync_of(g)->takeover(g->srv, g->room->id, on_taken, NULL);
        else
            schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + lease / 2);
    }
}

/* ---- requests */

struct reply_to {
    uint64_t session_id;
    struct proto_re re;
    struct quiz quiz; /* a start: the game it would begin */
};

static struct session *live(struct server *srv, uint64_t id)
{
    struct session *s = session_by_id(srv, id);

    return s && !s->closing ? s : NULL;
}

static void on_begun(struct server *srv, const char *room, int64_t result, json_t *data, void *arg)
{
    struct reply_to *rt = arg;
    struct session *s = live(srv, rt->session_id);
    struct game *g = game_of(srv, room);
    struct proto_req req = {.re = rt->re};

    (void)data;
    if (s)
        session_release_reading(s);
    if (result > 0 && g) {
        if (g->quiz.phase == QUIZ_IDLE || g->epoch != result) {
            quiz_end(&g->quiz); /* the step may have come back first: it is the same game */
            g->quiz = rt->quiz;
            rt->quiz = (struct quiz){0};
        }
        g->owner = true;
        g->epoch = result;
        g->next_ms = 0;
        game_recount(g);
        srv->ops->cancel(srv->transport, &g->lease_timer);
        schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + sync_of(g)->lease_ms / 3);
        schedule_phase(g);
    }
    if (s && result > 0)
        session_send_json(s, proto_ok(&req));
    else if (s && result == 0)
        session_reply_error(s, rt->re, PROTO_E_GAME_STATE, NULL, "%s", "a game is already running");
    else if (s)
        session_reply_error(s, rt->re, PROTO_E_SERVER_BUSY, NULL, "%s",
                            "the other nodes cannot be reached; try again shortly");
    quiz_end(&rt->quiz);
    free(rt);
    reply_sent(g);
}

void shared_start(struct game *g, struct session *s, const struct proto_req *req)
{
    struct server *srv = g->srv;
    struct room *r = g->room;
    struct reply_to *rt = calloc(1, sizeof(*rt));
    json_t *events;
    char *cp_text = NULL, *ev_text = NULL;
    struct game_step step;

    if (!rt) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
        return;
    }
    if (game_begin_quiz(g, &rt->quiz, s, req))
        goto out;
    {
        struct quiz keep = g->quiz; /* the checkpoint is written from a game: lend it the new one */
        g->quiz = rt->quiz;
        g->next_ms = 0;
        cp_text = checkpoint_text(g);
        g->quiz = keep;
    }
    events = json_pack("[o, o]", game_started_event(&rt->quiz, r->id),
                       game_question_event(&rt->quiz, r->id));
    ev_text = events ? json_dumps(events, JSON_COMPACT) : NULL;
    json_decref(events);
    if (!cp_text || !ev_text) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
        goto out;
    }
    step = (struct game_step){.checkpoint = cp_text,
                              .events = ev_text,
                              .open_round = 1,
                              .deadline_ms = rt->quiz.deadline_ms,
                              .after = g->step_n};
    rt->session_id = s->id;
    rt->re = req->re;
    session_hold_reading(s); /* the reply keeps its place among the session's replies */
    g->replies_waiting++;
    sync_of(g)->begin(srv, r->id, &step, on_begun, rt);
    rt = NULL;
out:
    if (rt)
        quiz_end(&rt->quiz);
    free(rt);
    free(cp_text);
    free(ev_text);
}

static void on_answered(struct server *srv, const char *room, int64_t result, json_t *data,
                        void *arg)
{
    static const char *const why[] = {
        [GAME_SYNC_ANSWER_CLOSED] = "no question is open",
        [GAME_SYNC_ANSWER_WRONG_ROUND] = "that is not the open round",
        [GAME_SYNC_ANSWER_LATE] = "too late: the time is up",
        [GAME_SYNC_ANSWER_TWICE] = "you already answered this round",
    };
    struct reply_to *rt = arg;
    struct session *s = live(srv, rt->session_id);
    struct proto_req req = {.re = rt->re};

    (void)room;
    (void)data;
    if (s) {
        session_release_reading(s);
        if (result == GAME_SYNC_ANSWER_OK)
            session_send_json(s, proto_ok(&req));
        else if (result > 0 && result <= GAME_SYNC_ANSWER_TWICE)
            session_reply_error(s, rt->re, PROTO_E_GAME_STATE, NULL, "%s", why[result]);
        else
            session_reply_error(s, rt->re, PROTO_E_SERVER_BUSY, NULL, "%s",
                                "the other nodes cannot be reached; try again shortly");
    }
    free(rt);
    reply_sent(game_of(srv, room));
}

void shared_answer(struct game *g, struct session *s, const struct proto_req *req)
{
    const struct quiz *q = &g->quiz;
    int i = quiz_player_index(q, s->seat);
    struct reply_to *rt;

    if (q->phase == QUIZ_IDLE) {
        session_reply_error(s, req->re, PROTO_E_GAME_STATE, NULL, "%s", "no question is open");
        return;
    }
    if (i < 0) { /* a player who left and came back still plays: their seat is in the room */
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "%s",
                            "you are watching this game; you play from the next one");
        return;
    }
    rt = calloc(1, sizeof(*rt));
    if (!rt) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "%s", "out of memory");
        return;
    }
    rt->session_id = s->id;
    rt->re = req->re;
    session_hold_reading(s);
    g->replies_waiting++;
    sync_of(g)->answer(g->srv, g->room->id, s->seat, req->round, req->choice, now_ms(g),
                       on_answered, rt);
}

/* ---- what the cluster tells */

void shared_roster_changed(struct game *g)
{
    check_host(g);
    if (!g->owner || g->quiz.phase != QUIZ_QUESTION)
        return;
    refresh_presence(g);
    if (quiz_present(&g->quiz) && quiz_all_answered(&g->quiz))
        close_question(g); /* the others need not wait for the one who left */
}

void shared_answered(struct game *g, uint64_t seat)
{
    struct quiz *q = &g->quiz;
    int i = quiz_player_index(q, seat);

    if (!g->owner || q->phase != QUIZ_QUESTION || i < 0)
        return;
    if (q->players[i].choice < 0)
        q->players[i].choice = 0; /* answered: what, the close will tell */
    refresh_presence(g);
    if (quiz_all_answered(q))
        close_question(g);
}

static void follow(struct game *g, int64_t epoch, json_t *step, bool replayed);

static void hold(struct game *g, int64_t epoch, json_t *step)
{
    if (!g->held)
        g->held = json_array();
    json_array_append_new(g->held, json_pack("[I, O]", (json_int_t)epoch, step));
}

void shared_synced(struct game *g, int64_t epoch, json_t *step)
{
    if (g->replies_waiting || g->catching_up) {
        hold(g, epoch, step);
        return;
    }
    follow(g, epoch, step, false);
}

/* Follows the held steps, unless something makes them wait again. */
static void follow_held(struct game *g)
{
    json_t *held = g->held, *h;
    size_t i;

    g->held = NULL;
    json_array_foreach(held, i, h)
    {
        if (g->replies_waiting || g->catching_up)
            hold(g, json_integer_value(json_array_get(h, 0)), json_array_get(h, 1));
        else
            follow(g, json_integer_value(json_array_get(h, 0)), json_array_get(h, 1), false);
    }
    json_decref(held);
}

/* A reply the held steps waited for went out. */
static void reply_sent(struct game *g)
{
    if (!g || --g->replies_waiting > 0 || !g->held)
        return;
    follow_held(g);
}

/* The room's last steps, read again: those after the newest followed here are followed now,
 * events included, so the players here see what they missed in order. */
static void on_missed(struct server *srv, const char *room, int64_t result, json_t *log, void *arg)
{
    struct game *g = game_of(srv, room);
    int64_t before;
    bool hole = false;
    json_t *e, *snap;
    size_t i;

    (void)arg;
    if (!g)
        return;
    g->catching_up = false;
    if (result != 1) /* the held steps wait for the next relink, or the next step's gap */
        return;
    before = g->step_n;
    json_array_foreach(log, i, e)
    {
        json_t *step = json_array_get(e, 1);
        int64_t n = json_integer_value(json_object_get(step, "n"));
        if (n <= g->step_n)
            continue;
        hole = hole || n > g->step_n + 1;
        follow(g, json_integer_value(json_array_get(e, 0)), step, true);
    }
    /* what the log no longer holds (a Redis that lost its data): the game as it is now */
    if (hole && g->room->nmembers && g->room->kind && (snap = g->room->kind->snapshot(g))) {
        json_object_set_new(snap, "type", json_string("game"));
        json_object_set_new(snap, "room", json_string(g->room->id));
        tell_here(g, snap);
    }
    if (g->step_n != before)
        log_info("game in %s: caught up from step %lld to %lld", g->room->id, (long long)before,
                 (long long)g->step_n);
    if (!g->replies_waiting)
        follow_held(g);
}

static void catch_up(struct game *g)
{
    if (g->catching_up)
        return;
    g->catching_up = true;
    sync_of(g)->missed(g->srv, g->room->id, on_missed, NULL);
}

void shared_relinked(struct game *g)
{
    if (g->step_n) /* a game never followed here is restored from the running games' list */
        catch_up(g);
}

/* A step: the replica follows it (unless this node published it) and its events go to the
 * members here. A step missed before it (the link was down) is read again first, unless this
 * is the reading (`replayed`). */
static void follow(struct game *g, int64_t epoch, json_t *step, bool replayed)
{
    json_t *cp = json_object_get(step, "cp"), *ev;
    int64_t n = json_integer_value(json_object_get(step, "n"));
    size_t i;

    if (epoch < g->epoch)
        return; /* from an owner the cluster has fenced off since */
    if (n && n <= g->step_n)
        return; /* followed already (a step read again, or heard twice) */
    if (json_is_true(json_object_get(step, "catch_up")) && g->step_n)
        return; /* the running games' list after a relink: relinked() reads what was missed */
    if (!replayed && g->step_n && n > g->step_n + 1) {
        hold(g, epoch, step);
        catch_up(g);
        return;
    }
    if (n)
        g->step_n = n;
    if (!(g->owner && epoch == g->epoch)) { /* another node's step: the replica follows */
        if (g->owner)
            become_replica(g);
        g->epoch = epoch;
        if (cp && json_is_object(cp)) {
            if (restore(g, cp))
                log_error("game in %s: a step this node cannot follow", g->room->id);
        } else {
            quiz_end(&g->quiz);
        }
        game_recount(g);
        g->srv->ops->cancel(g->srv->transport, &g->lease_timer);
        if (g->quiz.phase != QUIZ_IDLE)
            schedule(g, &g->lease_timer, on_lease_timer, now_ms(g) + sync_of(g)->lease_ms / 2);
    }
    json_array_foreach(json_object_get(step, "ev"), i, ev) tell_here(g, json_incref(ev));
}

void shared_stop(struct game *g)
{
    g->srv->ops->cancel(g->srv->transport, &g->lease_timer);
    clear_step(g);
    json_decref(g->held);
    g->held = NULL;
}
