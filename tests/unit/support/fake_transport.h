/*
 * A fake of the connection layer for tests that drive the server without sockets: the
 * transport_ops of server/core/server.h, recording per connection what the server asked for,
 * and loop timers on a fake clock that the test moves and fires. One per process (the clock is
 * what srv->wall_ms and srv->mono_ms read, and they take no argument), so the state is global:
 * fake_transport_reset() starts each test afresh. Loop thread (the test's) only.
 *
 * Tests that need a real lws loop (the pool wakes one) give fake_transport_reset() their
 * context: timers are then scheduled on it and run by its service loop, not by the fake clock.
 */
#ifndef PARLOR_FAKE_TRANSPORT_H
#define PARLOR_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "server.h"

/* What the server asked of one connection: a session's `conn` points to one of these. */
struct fake_conn {
    int want_writes;    /* output queued: write when the socket can take it */
    int close_requests; /* close soon */
    bool paused;        /* not read: the send queue is over a soft limit */
};

/* A pending loop timer. */
struct fake_timer {
    lws_sorted_usec_list_t *sul;
    void (*cb)(lws_sorted_usec_list_t *);
    int64_t us;     /* the delay it was scheduled with */
    int64_t due_ms; /* when it falls due on the fake clock */
};

#define FAKE_TIMERS_MAX 1024 /* more pending at once aborts: a leak in the code under test */

/* The ops to hand server_init(); its `transport` argument is not used. */
extern const struct transport_ops fake_transport_ops;

/* Starts afresh: no timer pending, the clock at `now_ms`. With `lws` non-NULL, schedule and
 * cancel go to that context's timers instead (lws_sul_*), which its service loop runs. */
void fake_transport_reset(int64_t now_ms, struct lws_context *lws);

/* The fake clock, for srv->wall_ms and srv->mono_ms. */
int64_t fake_clock_ms(void);
/* Moves the clock `ms` forward, running the timers that fall due on the way, earliest first,
 * each at its due time; a callback may schedule or cancel others. */
void fake_clock_advance(int64_t ms);

/* How many timers are pending. */
int fake_timers_pending(void);
/* The pending timer `sul`, or NULL when it is not pending. */
const struct fake_timer *fake_timers_find(const lws_sorted_usec_list_t *sul);
/* The pending timer that falls due first (the first scheduled among equals), or NULL. */
const struct fake_timer *fake_timers_next(void);
/* Runs the timer that falls due first, with the clock moved to its due time. 0, or -1 when
 * none is pending. */
int fake_timers_fire_next(void);
/* Runs the pending timer `sul` now, with the clock moved to its due time. 0, or -1 when it is
 * not pending. */
int fake_timers_fire(lws_sorted_usec_list_t *sul);

#endif
