/*
 * The fake transport and its fake clock (see fake_transport.h). The test's thread only: the
 * server calls these from the code under test, which runs on the test's thread as it would on
 * the loop.
 */
#include "fake_transport.h"

#include <stdio.h>
#include <stdlib.h>

static struct {
    int64_t now_ms;
    struct lws_context *lws; /* timers go there when set */
    struct fake_timer timers[FAKE_TIMERS_MAX];
    uint64_t order[FAKE_TIMERS_MAX]; /* when each was scheduled: ties fire in that order */
    uint64_t scheduled;
    int n;
} fake;

static void fake_want_write(void *transport, void *conn)
{
    ((struct fake_conn *)conn)->want_writes++;
}

static void fake_close(void *transport, void *conn)
{
    ((struct fake_conn *)conn)->close_requests++;
}

static void fake_pause_reading(void *transport, void *conn, bool pause)
{
    ((struct fake_conn *)conn)->paused = pause;
}

static int find(const lws_sorted_usec_list_t *sul)
{
    for (int i = 0; i < fake.n; i++)
        if (fake.timers[i].sul == sul)
            return i;
    return -1;
}

static void take(int i)
{
    fake.n--;
    fake.timers[i] = fake.timers[fake.n];
    fake.order[i] = fake.order[fake.n];
}

/* As lws_sul_schedule(): a timer that is pending is moved. */
static void fake_schedule(void *transport, lws_sorted_usec_list_t *sul,
                          void (*cb)(lws_sorted_usec_list_t *), int64_t us)
{
    int i;

    if (fake.lws) {
        lws_sul_schedule(fake.lws, 0, sul, cb, (lws_usec_t)us);
        return;
    }
    i = find(sul);
    if (i < 0) {
        if (fake.n == FAKE_TIMERS_MAX) {
            fprintf(stderr, "fake_transport: more than %d timers pending\n", FAKE_TIMERS_MAX);
            abort();
        }
        i = fake.n++;
    }
    fake.timers[i] =
        (struct fake_timer){.sul = sul, .cb = cb, .us = us, .due_ms = fake.now_ms + us / 1000};
    fake.order[i] = fake.scheduled++;
}

static void fake_cancel(void *transport, lws_sorted_usec_list_t *sul)
{
    int i;

    if (fake.lws) {
        lws_sul_cancel(sul);
        return;
    }
    i = find(sul);
    if (i >= 0)
        take(i);
}

const struct transport_ops fake_transport_ops = {.want_write = fake_want_write,
                                                 .close = fake_close,
                                                 .pause_reading = fake_pause_reading,
                                                 .schedule = fake_schedule,
                                                 .cancel = fake_cancel};

void fake_transport_reset(int64_t now_ms, struct lws_context *lws)
{
    fake.now_ms = now_ms;
    fake.lws = lws;
    fake.n = 0;
    fake.scheduled = 0;
}

int64_t fake_clock_ms(void)
{
    return fake.now_ms;
}

static int next_index(void)
{
    int next = -1;

    for (int i = 0; i < fake.n; i++)
        if (next < 0 || fake.timers[i].due_ms < fake.timers[next].due_ms ||
            (fake.timers[i].due_ms == fake.timers[next].due_ms && fake.order[i] < fake.order[next]))
            next = i;
    return next;
}

/* Runs timer `i`: it is no longer pending when its callback runs, which may schedule it again. */
static void run(int i)
{
    struct fake_timer t = fake.timers[i];

    take(i);
    if (t.due_ms > fake.now_ms)
        fake.now_ms = t.due_ms;
    t.cb(t.sul);
}

void fake_clock_advance(int64_t ms)
{
    int64_t to = fake.now_ms + ms;
    int i;

    while ((i = next_index()) >= 0 && fake.timers[i].due_ms <= to)
        run(i);
    fake.now_ms = to;
}

int fake_timers_pending(void)
{
    return fake.n;
}

const struct fake_timer *fake_timers_find(const lws_sorted_usec_list_t *sul)
{
    int i = find(sul);

    return i < 0 ? NULL : &fake.timers[i];
}

const struct fake_timer *fake_timers_next(void)
{
    int i = next_index();

    return i < 0 ? NULL : &fake.timers[i];
}

int fake_timers_fire_next(void)
{
    int i = next_index();

    if (i < 0)
        return -1;
    run(i);
    return 0;
}

int fake_timers_fire(lws_sorted_usec_list_t *sul)
{
    int i = find(sul);

    if (i < 0)
        return -1;
    run(i);
    return 0;
}
