/*
 * The libwebsockets transport: the one service loop, the HTTP mount for the browser client,
 * and the parlor.v1 protocol callback that turns socket events into chat calls and drains
 * sessions' send queues. The only module that calls lws_write(). Loop thread, except
 * ws_wake(), which any thread may call.
 */
#ifndef PARLOR_WS_H
#define PARLOR_WS_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#include <libwebsockets.h>
#include <uv.h>

#include "hmap.h"
#include "http.h"
#include "keepalive.h"
#include "listener.h"
#include "server.h"

struct pool;

struct ws {
    struct server *srv;
    struct pool *pool; /* may be NULL until set; its done queue is drained on wake-ups */
    struct lws_context *ctx;
    struct lws_http_mount mount;                     /* static files at / */
    struct lws_http_mount admin_mounts[HTTP_MOUNTS]; /* dynamic endpoints, before `mount` */
    struct lws_protocols protocols[5];
    struct lws_protocol_vhost_options headers[5]; /* security headers on every response */
    int nconns;           /* WebSocket connections now (until their CLOSED callback) */
    int nsockets;         /* the same until lws frees them, close frame sent */
    struct hmap per_addr; /* address -> connections from it (intptr_t), when limited */
    lws_retry_bo_t idle_policy;
    char www[PATH_MAX];
    bool draining;                    /* closing every connection: the last step of a shutdown */
    lws_sorted_usec_list_t drain_sul; /* deadline for clients to go during shutdown */
    lws_sorted_usec_list_t stats_sul; /* the once-a-second sample */
    /* sign-in, ping and idle deadlines of every connection, in O(1) lists: lws's own timers
     * keep one sorted list walked on every insert, which per message costs a walk past every
     * connection. One timer serves them all. */
    struct keepalive ka;
    lws_sorted_usec_list_t ka_sul;
    bool ka_armed;
    lws_dll2_owner_t flush; /* sessions with messages queued this loop turn (flush_queued) */
    int64_t ka_at;          /* when ka_sul fires (mono ms), if armed */
    /* --event-lib uv: our own libuv loop, lent to lws as a "foreign" loop so ws_run can turn
     * it once at a time (uv_run UV_RUN_ONCE) as it turns lws_service() for poll */
    bool uv;
    uv_loop_t uv_loop;
    void *foreign_loops[1];
    /* --reuse-port: the port is ours, not lws's (listener.h) */
    struct listener listener;
};

extern const struct transport_ops ws_transport_ops;

/* Creates the context and starts listening on cfg.port, serving `www` at /. Returns 0, or -1
 * with a one-line reason in `err`. */
int ws_start(struct ws *t, struct server *srv, char *err, size_t errlen);
/* What the signal handler records: how many stop signals came, and the last one. */
struct ws_signals {
    volatile sig_atomic_t count;
    volatile sig_atomic_t last;
};

/* Services the loop until a stop signal, then shuts down: SIGINT (or a second signal) closes
 * every connection (1001) at once; SIGTERM first drains: players are told, sign-ins and new
 * games refused, running games finish (at most --drain-seconds), then the same close. */
void ws_run(struct ws *t, const struct ws_signals *sig);
/* Destroys the context (closing any connection left); safe on a zeroed struct. */
void ws_destroy(struct ws *t);
/* pool_cfg.wake: `arg` is the struct lws_context. Any thread. */
void ws_wake(void *arg);

#endif
