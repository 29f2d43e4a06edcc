/*
 * Quiz rooms: a room's game, driven by loop timers through the transport's schedule/cancel,
 * with the rules in quiz.c. Each phase change (question, reveal, next question, game over) is
 * one timer callback on the loop; there is no thread or OS timer per game. Results go to the
 * pool in one transaction at game over. Loop thread, except the results' and the
 * leaderboard's run(), which call the store on a worker.
 */
#ifndef PARLOR_GAME_H
#define PARLOR_GAME_H

#include <stdbool.h>

#include <jansson.h>

#include "quiz.h"
#include "room.h"
#include "table.h"

struct server;
struct session;
struct room;
struct proto_req;

#define GAME_DEFAULT_MAX     12 /* members of a new quiz room */
#define GAME_DEFAULT_ROUNDS  10
#define GAME_DEFAULT_SECONDS 20

/* The quiz as a room kind: what the chat service calls (start, answer, snapshots, members
 * leaving and resuming), without knowing the rules. */
extern const struct room_kind game_quiz_kind;
/* Makes `room` a quiz table: its kind and a new game. 0, or -1 when out of memory. */
int game_attach(struct server *srv, struct room *room, int rounds, int seconds);

/* A quiz for `room`; NULL when out of memory. */
struct game *game_new(struct server *srv, struct room *room, int rounds, int seconds);
/* Stops any game, cancels its timer and frees it. NULL is a no-op. */
void game_free(struct game *g);
/* Adds host, state, rounds and seconds to a quiz room's object. */
void game_describe(const struct game *g, json_t *room_obj);
/* The running game's state for a joining member, or NULL while the room waits. */
json_t *game_snapshot(const struct game *g);

/* Requests; each replies to the session. */
void game_start(struct game *g, struct session *s, const struct proto_req *req);
void game_answer(struct game *g, struct session *s, const struct proto_req *req);
void game_leaderboard(struct server *srv, struct session *s, const struct proto_req *req);

/* `s` has left the room (the others were told); `was_host` when it was members[0]. */
void game_member_left(struct game *g, struct session *s, bool was_host);

#endif
