/*
 * The operators' side of a cluster. Moderation: an action an operator takes on one node's
 * console (ban, mute, kick, announce, close_room, delete_message, unban) is applied and stored
 * there, then published once on the channel parlor:admin as "NODE JSON"; every other node hands
 * it to the `apply` callback main.c registered (the console's actions_apply), which changes
 * that node's memory and players and neither stores nor publishes again. The console: every
 * second each node writes its figures into the hash parlor:nodes (field: its node id) and
 * reads everyone's back into srv->cluster.nodes, which the console lists. Pub/sub delivers to
 * the nodes linked at that moment: a node whose link is down misses the action (its bans come
 * from the database when it restarts). Loop thread only.
 */
#ifndef PARLOR_MODBUS_H
#define PARLOR_MODBUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "timer.h"

struct link;
struct server;

#define MODBUS_CHANNEL     "parlor:admin"
#define MODBUS_FIGURES_KEY "parlor:nodes"
/* a room's chat stream, as cluster.c names it: its entries are 0-<seq> */
#define MODBUS_ROOM_STREAM_FMT "parlor:room:%s:stream"
/* A node not heard from for this long is shown as silent, and forgotten after MODBUS_FORGET_MS */
#define MODBUS_SILENT_MS 3000
#define MODBUS_FORGET_MS 60000

typedef int modbus_apply_fn(struct server *srv, json_t *action);

struct modbus {
    struct link *link;      /* the cluster's: its node id, its server */
    modbus_apply_fn *apply; /* NULL until modbus_start, and after modbus_stop */
    bool subscribed;
    loop_timer tick_timer; /* the figures, once a second */
    int64_t next_tick_ms;  /* when the tick was due (mono): how late it ran is the loop's lag */
    int64_t lag_ms;        /* of the newest tick */
    uint64_t published, applied; /* actions sent to, and taken from, the other nodes */
};

/* Starts publishing this node's actions over the cluster's `link` and applying the others'
 * through `apply`; the link must have started. */
void modbus_start(struct modbus *mb, struct link *link, modbus_apply_fn *apply);
/* The link is up (subscribe) or down; called by the cluster. */
void modbus_up(struct modbus *mb);
void modbus_down(struct modbus *mb);
/* Stops the timer and forgets the figures; safe on a zeroed struct. */
void modbus_stop(struct modbus *mb);

/* This node's figures at `now_ms` (wall) from the newest stats sample: the entry it writes. */
json_t *modbus_own_figures(struct modbus *mb, int64_t now_ms);
/* Builds the console's node list from parlor:nodes's fields (node -> figures JSON) at `now_ms`:
 * sorted by node id, each with `age_ms` and `silent`; entries older than MODBUS_FORGET_MS or
 * not JSON objects are left out and their node ids added to `stale` (an array) when given. */
json_t *modbus_node_list(json_t *fields, int64_t now_ms, json_t *stale);

#endif
