/*
 * A quiz game the nodes of a cluster share, through the game_sync_ops (gamesync.h): what
 * game.c hands it when the table's room is a cluster's. Loop thread only.
 */
#ifndef PARLOR_SHARED_H
#define PARLOR_SHARED_H

#include <stdint.h>

#include <jansson.h>

#include "table.h"

struct session;
struct proto_req;

/* A start by the host of a game not running, on a node not draining (game.c checked). */
void shared_start(struct game *g, struct session *s, const struct proto_req *req);
void shared_answer(struct game *g, struct session *s, const struct proto_req *req);
/* A member here left or joined, or the members elsewhere changed: the host, and who still
 * plays. */
void shared_roster_changed(struct game *g);
/* A step the owner published (room_kind.synced). */
void shared_synced(struct game *g, int64_t epoch, json_t *step);
/* The link to the other nodes is back: reads the steps missed meanwhile (room_kind.relinked). */
void shared_relinked(struct game *g);
/* (the owner) the player in `seat` recorded an answer. */
void shared_answered(struct game *g, uint64_t seat);
/* Stops the game's lease timer and frees a step not yet published. */
void shared_stop(struct game *g);

#endif
