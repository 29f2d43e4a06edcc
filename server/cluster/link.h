/*
 * The node's link to Redis: two hiredis connections on the loop's libuv loop, one for commands
 * and one for subscriptions (a subscribed Redis connection accepts nothing else). Both are up,
 * or the link is down: a failure of either drops both, and the link redials with backoff
 * (100 ms doubling to 2 s). hiredis 0.14 has no timeouts, so a watchdog sends a PING and
 * publishes a probe on the node's own channel every tick; when either answer is older than the
 * timeout the link is dropped as silent (a half-open TCP connection, a paused Redis, or a
 * subscription Redis cut for being slow). Loop thread only.
 */
#ifndef PARLOR_LINK_H
#define PARLOR_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <uv.h>

#include "timer.h"

struct server;

struct link_cfg {
    const char *url;         /* redis://HOST[:PORT] or unix:///PATH */
    const char *node_id;     /* the probe channel is parlor:node:<node_id> */
    int timeout_ms;          /* silence before the link is dropped */
    struct server *srv;      /* its transport runs the timers; its clocks */
    void (*up)(void *arg);   /* both connections are ready: subscribe, repair */
    void (*down)(void *arg); /* every pending command has failed; subscriptions are gone */
    /* A message on the node's own channel other than the probe. */
    void (*node_message)(void *arg, const char *msg, size_t len);
    void *arg;
};

struct link {
    struct link_cfg cfg;
    uv_loop_t *loop;
    char host[256];
    int port; /* 0: `host` is a Unix socket path */
    char node_channel[128];

    redisAsyncContext *cmd, *sub; /* NULL when not connected */
    bool cmd_ready, sub_ready, up, stopping;
    int backoff_ms;
    int64_t last_pong_ms, last_probe_ms; /* when the newest answer arrived (mono) */
    uint64_t probe_sent, probe_seen;

    loop_timer redial_timer, watchdog_timer;
    uint64_t reconnects, drops;
    char last_error[160];
};

/* Fills l->host and l->port from a --cluster URL; 0, or -1 with `err`. */
int link_parse_url(struct link *l, const char *url, char *err, size_t errlen);
/* Checks the URL and starts dialling; 0, or -1 with `err`. */
int link_start(struct link *l, const struct link_cfg *cfg, uv_loop_t *loop, char *err,
               size_t errlen);
/* Closes both connections (pending callbacks run with failures) and cancels the timers. */
void link_stop(struct link *l);

/* Sends a command on the command connection; `fn` gets the reply, or NULL when the link
 * failed. -1 (and `fn` is not called) when the link is down. */
int link_command(struct link *l, redisCallbackFn *fn, void *privdata, int argc, const char **argv,
                 const size_t *argvlen);
/* SUBSCRIBE or UNSUBSCRIBE `channel` on the subscription connection; `fn` gets the
 * confirmations and every message. -1 when the link is down. */
int link_subscribe(struct link *l, const char *channel, redisCallbackFn *fn, void *privdata);
int link_unsubscribe(struct link *l, const char *channel);

#endif
