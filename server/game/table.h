/*
 * A quiz table: its state (struct game) and what both ways of running a game send, the events
 * and the results. game.c runs a game on this node alone; shared.c runs one the nodes of a
 * cluster share. Loop thread only.
 */
#ifndef PARLOR_TABLE_H
#define PARLOR_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "quiz.h"
#include "timer.h"

struct proto_req;
struct session;

struct server;
struct room;

#define GAME_KIND_NAME "quiz" /* the room object's `game` */

struct game {
    struct server *srv;
    struct room *room;
    int rounds, seconds; /* the room's settings for its next game */
    struct quiz quiz;    /* phase QUIZ_IDLE while the room waits */
    loop_timer timer;
    bool counted; /* counted in srv->games_running */

    /* A game players on several nodes share (shared.c, gamesync.h): */
    int64_t epoch;           /* of the newest step seen, or of this node's lease */
    bool owner;              /* this node runs the game's timers under its lease */
    bool busy;               /* a close or a step is on its way to the cluster */
    int64_t next_ms;         /* when the pause after a reveal ends (wall ms) */
    loop_timer lease_timer;  /* the owner renews its lease; the others watch it lapse */
    char host[258];          /* the host as last announced here (SESSION_NAME_MAX + 1) */
    char *step_cp, *step_ev; /* a step not yet published (retried while the link is down) */
    int step_open;
    uint64_t step_id; /* that step's gamesync id: this node's steps are counted */
    bool step_over;
    /* Replies to a start or an answer here still waiting for the cluster: the steps that come
     * meanwhile wait in `held` ([[epoch, step], ...]), so a player gets the ok before the
     * events it caused, as on one node. */
    int replies_waiting;
    json_t *held;
    /* The number of the newest step followed here (gamesync.h); steps that come while the
     * missed ones are read again (catching_up) wait in `held` too. */
    int64_t step_n;
    bool catching_up;
};

/* True when the game's players may be on several nodes (a cluster's room). */
bool game_is_shared(const struct game *g);
/* The host: the member who came first (in a cluster, on any node); NULL in an empty room. */
const char *game_host(const struct game *g);
/* Keeps srv->games_running in step with the game's phase (a shared game counts on its owner's
 * node only): called after each change that can start or end it. */
void game_recount(struct game *g);

/* The events, for a game in `room`. */
json_t *game_question_json(const struct quiz_question *qq);
json_t *game_started_event(const struct quiz *q, const char *room);
json_t *game_question_event(const struct quiz *q, const char *room);
json_t *game_reveal_event(const struct quiz *q, const char *room);
json_t *game_over_event(const struct quiz *q, const char *room);
/* [{name, score, delta?, rank?}] in standing order. */
json_t *game_scores_json(const struct quiz *q, bool with_delta, bool with_rank);
/* Begins a new game of the room's settings in `q` (idle): questions drawn from the
 * bank, every member on every node a player (a player is a seat: a resumed one is listed once).
 * 0, or -1 after replying the error to `s`'s request `req`. */
int game_begin_quiz(struct game *g, struct quiz *q, struct session *s, const struct proto_req *req);
/* Saves the finished game's results on the pool, in one transaction. */
void game_save_results(struct game *g);

#endif
