/*
 * A cluster node: several parlor processes, on one machine or many, share rooms' chat through
 * Redis. It plugs into the two seams of the core: its delivery_ops publish what leaves a room
 * to the other nodes, and its directory_ops hand out room ids unique across the cluster.
 *
 * Chat order: a room's seq is assigned in Redis by one Lua script that increments the room's
 * counter, appends the message to a capped per-room stream and publishes it, so every node
 * sees one order. Every node, the sender's included, delivers a room's chat from its
 * subscription, in seq order; a node that sees a gap (after subscribing, or after the link came
 * back) fetches the missing messages from the stream first, and when the stream no longer has
 * them it delivers what follows and marks the room's history as incomplete (room.hist_lost),
 * which a resume reports. A node subscribes to a room's channel only while members of the room
 * are connected to it. Other room events (presence, games) go to the local members at once and
 * are published to the others, in no global order.
 *
 * When the link to Redis is down, a `say` is refused (server_busy): nothing is acknowledged that
 * the other nodes could not see. Loop thread only.
 */
#ifndef PARLOR_CLUSTER_H
#define PARLOR_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "hmap.h"
#include "link.h"
#include "games.h"
#include "modbus.h"
#include "registry.h"

struct server;

struct cluster {
    struct server *srv;
    struct link link;
    char node_id[64];
    int stream_max;
    char script_sha[41];        /* of the publish script, loaded again on every link */
    struct hmap rooms;          /* room id -> struct cluster_room * */
    uint64_t ids_next, ids_end; /* the block of room numbers this node may hand out */
    bool ids_pending;
    char boot[24];          /* this process's id among the node's lives (names' owners) */
    char database_id[40];   /* the database's identity (startup.h), kept in parlor:database */
    loop_timer alive_timer; /* refreshes parlor:alive:<node> */
    char **unreleased;      /* names let go while the link was down: freed when it is back */
    size_t nunreleased;
    struct registry registry; /* the room list and member counts across nodes */
    /* Told of each account another node registered (the accounts service learns it). Set
     * before cluster_start. */
    void (*account_learned)(void *arg, int64_t id, const char *name);
    void *account_learned_arg;
    struct modbus modbus;                  /* moderation and the console's figures across nodes */
    struct games games;                    /* quiz games whose players are on several nodes */
    struct detached_claim *claims_waiting; /* resumes asking again for a record (cluster.c) */
};

/* parlor:alive:<node>'s lifetime: a node refreshes it every second, so a dead node's id is free
 * again this long after its last refresh. */
#define CLUSTER_ALIVE_TTL_MS 5000

/* Names this node (--node-id, else host:port), draws this process's boot id and the base of
 * its guest session ids, once: cluster_check and cluster_start share them. 0, or -1 with err
 * (a --node-id with spaces, no random bytes). */
int cluster_identify(struct cluster *c, struct server *srv, char *err, size_t errlen);

/* Joins the cluster: sets srv->delivery and srv->directory and starts dialling Redis (the node
 * serves while the link is down, see above). 0, or -1 with `err` for a bad URL. */
int cluster_start(struct cluster *c, struct server *srv, uv_loop_t *loop, char *err, size_t errlen);
/* Tells the other nodes of an account registered here (accounts_cfg.registered). */
void cluster_account_registered(void *cluster, int64_t id, const char *name);
/* Leaves: closes the link; the server goes back to local delivery. */
void cluster_stop(struct cluster *c);

#endif
