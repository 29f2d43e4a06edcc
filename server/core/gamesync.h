/*
 * The seam a cluster plugs into for quiz games that players on several nodes share. One node,
 * the owner, runs a game's timers on its loop under a lease; every step it takes (a question
 * opens, a reveal, game over) is published with a checkpoint of the whole game, and is fenced
 * by the lease's epoch, so an owner that lost its lease (it stopped, the others took over)
 * cannot publish a stale step. Answers are recorded by the cluster, from any node, until the
 * owner closes the question. Every node keeps a replica of each running game from the steps
 * (room_kind.synced) and delivers their events to its own members; when the owner's lease
 * lapses a node takes the game over from its last checkpoint. Without a cluster the ops are
 * NULL and game.c runs games alone. Loop thread only.
 */
#ifndef PARLOR_GAMESYNC_H
#define PARLOR_GAMESYNC_H

#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct server;

/* An answer from the cluster about `room`: `result` as each op says; `data` is borrowed for
 * the call; `arg` is the caller's. An op given no `done` (NULL) wants no answer. */
typedef void game_sync_done_fn(struct server *srv, const char *room, int64_t result, json_t *data,
                               void *arg);

/* What an answer's recording found (game_sync_ops.answer). */
enum game_sync_answer {
    GAME_SYNC_ANSWER_OK,
    GAME_SYNC_ANSWER_CLOSED, /* no question is open */
    GAME_SYNC_ANSWER_WRONG_ROUND,
    GAME_SYNC_ANSWER_LATE,
    GAME_SYNC_ANSWER_TWICE,
};

/* One step of a game: its checkpoint (NULL: the game is over), the events it sends, and the
 * round it opens (0: none) with that question's deadline (wall ms). The texts are JSON. */
struct game_step {
    const char *checkpoint;
    const char *events; /* an array */
    int open_round;
    int64_t deadline_ms;
    /* The room's steps are numbered ("n" in the step the nodes get), so a node can tell a step
     * it missed: the newest number this node followed. The step gets the next number after it
     * and after the room's newest (a cluster that lost its data numbers on from the owner's). */
    int64_t after;
    /* The owner's name for this step, the same when it asks again after losing the answer:
     * a step the cluster took already is not published twice (0: a begin, never asked again). */
    uint64_t id;
};

struct game_sync_ops {
    /* Makes this node the owner of a new game in `room` and publishes its first step. Result:
     * the lease's epoch (> 0), 0 when a game runs there already, -1 when the cluster cannot be
     * asked. */
    void (*begin)(struct server *srv, const char *room, const struct game_step *step,
                  game_sync_done_fn *done, void *arg);
    /* Publishes a step of the game owned under `epoch`. Result: 1, 0 when another node took
     * the game over (nothing was published), -1 when the cluster cannot be asked. */
    void (*step)(struct server *srv, const char *room, int64_t epoch, const struct game_step *step,
                 game_sync_done_fn *done, void *arg);
    /* Closes the open question: no answer is recorded after this. Result 1 with `data` the
     * recorded answers, [[seat, round, choice, answered_at], ...]; 0 fenced; -1. */
    void (*close)(struct server *srv, const char *room, int64_t epoch, game_sync_done_fn *done,
                  void *arg);
    /* Records a player's answer to the open question and tells the owner. Result: an enum
     * game_sync_answer, or -1. */
    void (*answer)(struct server *srv, const char *room, uint64_t seat, int round, int choice,
                   int64_t answered_at_ms, game_sync_done_fn *done, void *arg);
    /* Extends the owner's lease. Result 1, or 0 when it is lost. */
    void (*renew)(struct server *srv, const char *room, int64_t epoch, game_sync_done_fn *done,
                  void *arg);
    /* Gives the lease up (a draining node hands its games over). Result 1, or 0 when it was
     * not held. */
    void (*release)(struct server *srv, const char *room, int64_t epoch, game_sync_done_fn *done,
                    void *arg);
    /* Takes a game over whose owner's lease lapsed. Result: the new epoch with `data` the last
     * checkpoint, or 0 (another owner holds it, or the game is over). */
    void (*takeover)(struct server *srv, const char *room, game_sync_done_fn *done, void *arg);
    /* The room's last steps, oldest first, for a node that missed some (its link was down).
     * Result 1 with `data` [[epoch, step], ...] (steps as room_kind.synced gets them), or -1. */
    void (*missed)(struct server *srv, const char *room, game_sync_done_fn *done, void *arg);
    /* How long a lease lasts (ms): the owner renews it at a third, the others try to take the
     * game over at half. */
    int64_t lease_ms;
};

#endif
