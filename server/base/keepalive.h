/*
 * Per-connection deadlines in O(1): the sign-in deadline, the ping after a silence, and the
 * drop after a longer one.
 *
 * Every connection has the same timeouts, so lists kept in arrival order are already sorted by
 * deadline: appending and unlinking replace lws's timers, whose single sorted list is walked on
 * every insert (lws re-arms a connection's validity timer for every message received: a walk
 * past every other connection, per message). One loop timer, armed for keepalive_next(), runs
 * keepalive_expire(). Knows nothing of sockets; loop thread only.
 */
#ifndef PARLOR_KEEPALIVE_H
#define PARLOR_KEEPALIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

struct keepalive_entry {
    lws_dll2_t signin; /* in signin until the connection signs in */
    lws_dll2_t live;   /* in active, or in pinged once a ping went unanswered so far */
    int64_t signin_at; /* ms: the start of the sign-in period */
    int64_t heard_at;  /* ms: the last frame received */
};

struct keepalive {
    lws_dll2_owner_t signin, active, pinged;
    int64_t signin_ms, ping_ms, idle_ms;
};

enum keepalive_action {
    KEEPALIVE_SIGNIN_EXPIRED, /* not signed in within signin_ms */
    KEEPALIVE_PING,           /* silent for ping_ms: send a ping */
    KEEPALIVE_DROP,           /* silent for idle_ms, ping unanswered: drop the connection */
};

/* For each entry due: KEEPALIVE_SIGNIN_EXPIRED returns true to give the connection another
 * whole sign-in period (its sign-in is still being checked); the return value of the other
 * actions is ignored. */
typedef bool (*keepalive_act)(struct keepalive_entry *e, enum keepalive_action what, void *arg);

void keepalive_init(struct keepalive *ka, int signin_s, int ping_s, int idle_s);
/* A new connection: its sign-in period and silence start now. */
void keepalive_add(struct keepalive *ka, struct keepalive_entry *e, int64_t now);
/* The connection signed in: no sign-in deadline any more. */
void keepalive_signed_in(struct keepalive_entry *e);
/* A frame arrived (a pong included): the silence starts again. */
void keepalive_heard(struct keepalive *ka, struct keepalive_entry *e, int64_t now);
/* The connection is gone: forget it. Safe on an entry never added or already removed. */
void keepalive_remove(struct keepalive_entry *e);
/* Acts on every deadline reached at `now`; an entry dropped is removed before `act` sees it. */
void keepalive_expire(struct keepalive *ka, int64_t now, keepalive_act act, void *arg);
/* The earliest deadline of any entry (ms), or -1 when there is none. */
int64_t keepalive_next(const struct keepalive *ka);

#endif
