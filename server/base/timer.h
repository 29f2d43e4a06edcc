/*
 * The model's loop timer. Every timer is scheduled through transport_ops.schedule and runs on
 * the loop thread; the model names the type only through this header, so the transport's
 * choice of timer (lws's sorted usec list today) is one line to change, and a unit test's
 * fake transport can run timers on a fake clock.
 */
#ifndef PARLOR_TIMER_H
#define PARLOR_TIMER_H

#include <stddef.h>

#include <libwebsockets.h>

typedef lws_sorted_usec_list_t loop_timer;
typedef void loop_timer_fn(loop_timer *timer);

#define TIMER_US_PER_MS  1000LL
#define TIMER_US_PER_SEC 1000000LL

/* The struct of `type` whose member `member` is the timer `t`: for timer callbacks. */
#define timer_owner(t, type, member) ((type *)(void *)((char *)(t)-offsetof(type, member)))

#endif
