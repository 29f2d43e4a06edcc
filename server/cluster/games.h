/*
 * Quiz games shared across a cluster's nodes (the game_sync_ops of gamesync.h) in Redis. Per
 * game room R: parlor:game:R (the newest checkpoint), :epoch (incremented by every new owner),
 * :owner ("NODE EPOCH", with the lease as its TTL), :open ("ROUND DEADLINE" while a question
 * takes answers), :answers (seat -> "ROUND CHOICE AT"), :step (the newest step's number),
 * :log (the last steps, "EPOCH STEP", kept ten minutes) and :sent (the newest step's id, "NODE
 * EPOCH ID", so an owner asking again does not publish twice); the set parlor:games lists the rooms
 * whose game runs. Each step is published on the channel parlor:games as "g ROOM EPOCH
 * {"n":..., "cp":..., "ev":[...]}" by a script that refuses an epoch older than the room's, so
 * an owner that lost its lease cannot publish; an answer is recorded by a script that checks the
 * open round and its deadline, and nudges the owner on its node channel ("a ROOM SEAT").
 * Loop thread only.
 */
#ifndef PARLOR_GAMES_H
#define PARLOR_GAMES_H

#include <stddef.h>

#include "gamesync.h"

struct link;
struct server;

struct games {
    struct server *srv;
    struct link *link;
    const char *node_id;
    struct game_sync_ops ops;
};

/* Sets srv->game_sync. */
void games_init(struct games *gs, struct server *srv, struct link *link, const char *node_id,
                int lease_ms);
/* The link is up: follow the steps, and catch up with every running game. */
void games_up(struct games *gs);
/* "a ROOM SEAT" on this node's channel: a player recorded an answer to a game owned here. */
void games_node_message(struct games *gs, const char *msg, size_t len);

#endif
