/*
 * The server's state: one struct, owned by the loop thread and passed explicitly (no globals),
 * so tests can build several servers in one process. The transport (ws.c in production, a
 * fake in unit tests) plugs in through `transport_ops`. The operators' figures are read from
 * here (server_read_counters()): the transport keeps `connections`, game.c `games_running`.
 */
#ifndef PARLOR_SERVER_H
#define PARLOR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "bans.h"
#include "config.h"
#include "hmap.h"
#include "msgbuf.h"
#include "oplog.h"
#include "proto.h"
#include "room.h"
#include "stats.h"
#include "timer.h"

struct session;
struct chatlog;
struct accounts;
struct backup;
struct pool;
struct qbank;
struct game_sync_ops;
struct admin;

/* What the model needs from the connection layer. Loop thread only. */
struct transport_ops {
    /* The session has queued output: write it when the socket can take it. */
    void (*want_write)(void *transport, void *conn);
    /* Close the connection soon, sending the session's close_code and close_reason. */
    void (*close)(void *transport, void *conn);
    /* Stop reading the connection (`pause`), or read it again. */
    void (*pause_reading)(void *transport, void *conn, bool pause);
    /* Loop timers: run `cb` in `us` microseconds (rescheduling a pending one), or not at all. */
    void (*schedule)(void *transport, loop_timer *sul, loop_timer_fn *cb, int64_t us);
    void (*cancel)(void *transport, loop_timer *sul);
};

struct delivery_ops;
struct directory_ops;

struct server_stats {
    uint64_t frames_in;       /* requests received */
    uint64_t messages_out;    /* messages queued to clients */
    uint64_t sendq_overflows; /* sessions closed as too slow */
    uint64_t rate_limited;    /* requests refused by a rate limit */
    uint64_t bytes_out;       /* payload bytes written to clients */
};

/* A cluster node's figures for /healthz and /metrics, kept by the cluster (server/cluster);
 * node_id is NULL when the process runs alone. */
struct cluster_figures {
    const char *node_id;
    bool link_up;
    uint64_t link_drops;         /* times the link to Redis went down */
    uint64_t chat_refused;       /* says refused because the link was down or Redis failed */
    uint64_t gaps_repaired;      /* chat messages fetched from a room's stream to fill a gap */
    uint64_t chat_unrecoverable; /* chat messages skipped: no longer in the room's stream */
    json_t *nodes; /* every node's figures (ADMIN.md "nodes"), refreshed each second; NULL alone */
};

struct server {
    struct config cfg;
    struct proto_limits lim;

    const struct transport_ops *ops;
    void *transport; /* first argument of every ops call */
    /* What a cluster replaces (delivery.h, directory.h); NULL: this process alone. */
    const struct delivery_ops *delivery;
    const struct directory_ops *directory;
    /* Told when a signed-in session's name is let go (session_free, session_clear_name), so
     * a cluster can free it on the other nodes too. NULL: nobody to tell. */
    void (*name_released)(struct server *srv, const char *name);
    /* Removes a room nobody here is in, as its last member leaving would (a cluster's room
     * that emptied on every node). Set by whoever runs the chat service (main.c). */
    void (*drop_room)(struct server *srv, struct room *r);
    /* Lets a detached session go without a word to its rooms: another node resumed it. Set
     * by whoever runs the chat service (main.c). */
    void (*session_moved)(struct server *srv, struct session *s);
    /* Gives a room another node listed its kind (a quiz table), from the list's object
     * `desc` (its "quiz" settings). 0, or -1 when out of memory. Set by main.c. */
    int (*attach_kind)(struct server *srv, struct room *r, json_t *desc);
    /* A game several nodes share (gamesync.h); NULL: games are this process's own. */
    const struct game_sync_ops *game_sync;
    /* Told when an operator's action (ADMIN.md "In a cluster": ban, kick, announce...) has
     * taken effect here, so a cluster can apply it on the other nodes; `action` is borrowed.
     * NULL: nobody to tell. */
    void (*moderation_publish)(struct server *srv, json_t *action);
    void *moderation_arg; /* the publisher's own */

    struct hmap sessions_by_id;    /* uint64_t id -> struct session * */
    struct hmap sessions_by_name;  /* folded name -> signed-in struct session * */
    struct hmap names_by_skeleton; /* names_skeleton() -> count of signed-in names */
    uint64_t next_session_id;
    struct rooms rooms;
    struct msgbuf *welcome;    /* serialized once, sent by reference to every connection */
    struct chatlog *chatlog;   /* persists chat; NULL keeps history in memory only (tests) */
    struct accounts *accounts; /* registered users; NULL: guests only (tests) */
    struct backup *backup;     /* hot backups; NULL without a database */
    struct bans bans;          /* bans and mutes in force */
    struct pool *pool;         /* slow work; NULL without a database (tests) */
    struct qbank *bank;        /* quiz questions; NULL: no quiz can start */
    uint64_t rng;              /* for drawing questions */
    struct hmap http_requests; /* HTTP request id -> struct lws *, while it waits for a job */
    uint64_t next_http_id;

    int64_t (*wall_ms)(void); /* timestamps clients see */
    int64_t (*mono_ms)(void); /* rate limits and durations */

    bool stopping;
    struct server_stats stats;
    int connections;      /* WebSocket connections now, kept by the transport */
    int games_running;    /* quiz games between start and game_over, kept by game.c */
    struct stats figures; /* sampled each second for operators */
    struct oplog oplog;   /* events for operators; admin.c pushes them to consoles */
    struct admin *admin;  /* the console's state (admin_init), or NULL */
    struct cluster_figures cluster;
    bool draining; /* shutting down: no new sign-ins or games */
    int64_t drain_deadline_ms;
};

/* Builds the model: rooms with the lobby, the welcome message. Returns 0 or -1. */
int server_init(struct server *srv, const struct config *cfg, const struct transport_ops *ops,
                void *transport);
/* Frees everything the model holds; safe on a zeroed or half-built struct. Sessions must
 * have been closed by the transport first. */
void server_destroy(struct server *srv);

/* Fills in the figures of the whole server now (connections, games, pool, memory, CPU), for
 * the console's samples and GET /metrics. */
void server_read_counters(const struct server *srv, struct stats_counters *c);

int64_t server_wall_ms(void);
int64_t server_mono_ms(void);

#endif
