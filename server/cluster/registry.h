/*
 * The cluster's room list: chat rooms created on any node exist on every node, with their
 * member counts summed over the nodes, and go when they are empty on every node.
 *
 * In Redis: the hash parlor:rooms (room id -> {"name","max"}), and per room the hash
 * parlor:room:<id>:members (node -> members connected there). Changes are published on the
 * channel parlor:rooms, to which every node listens: "+ ID JSON" (a room was created), "- ID"
 * (it emptied everywhere), "n ID NODE COUNT" (a node's members of it). A node's counts count only
 * while the node is alive (parlor:alive:<node>, see cluster.c), so the rooms and members of a
 * node that died go within seconds. Members are listed in parlor:room:<id>:names (name -> "NODE
 * SEAT USER SINCE") and their arrivals and departures published: "m ID NODE SEAT USER SINCE
 * NAME", "x ID NODE NAME". A quiz room is listed with its settings, and each node makes it a
 * quiz table (server.attach_kind). Loop thread only.
 */
#ifndef PARLOR_REGISTRY_H
#define PARLOR_REGISTRY_H

#include <stdbool.h>

#include "hmap.h"

struct link;
struct room;
struct session;
struct server;

struct registry {
    struct server *srv;
    struct link *link;
    const char *node_id;
    struct hmap counts; /* room id -> struct room_counts *: the other nodes' members */
};

void registry_init(struct registry *reg, struct server *srv, struct link *link,
                   const char *node_id);
void registry_destroy(struct registry *reg);
/* The link is up: listen to the list's channel, and bring the room list and counts up to date
 * both ways. */
void registry_up(struct registry *reg);
/* A room created here by a player. */
void registry_created(struct registry *reg, struct room *r);
/* The members of `r` connected here changed (or `r` is about to go: pass `gone`). */
void registry_count(struct registry *reg, struct room *r, bool gone);
/* A member connected here, there since `since` (wall ms), joined or left a shared room (or the
 * lobby): its name, seat and account in the room's list on every node. */
void registry_member(struct registry *reg, const struct room *r, const struct session *s,
                     int64_t since, bool joined);
/* Reads the names of the room's members on other nodes into r->remote (this node started
 * listening to the room). */
void registry_fetch_names(struct registry *reg, const struct room *r);
/* Once a second: forgets the members of nodes that stopped refreshing their liveness. */
void registry_tick(struct registry *reg);

#endif
