/*
 * Tests for the worker pool (server/base/pool.c): every accepted job runs once on a worker and
 * completes once on the loop thread, in order where there is one worker; a full queue refuses;
 * shutdown finishes queued jobs; a worker that cannot open fails the pool; and the real wake-up
 * path: a worker's lws_cancel_service() makes a blocked lws_service() deliver
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED, where the done queue is drained.
 * Also run under ThreadSanitizer by `make test`.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "pool.h"

#define WAIT_SECS 10 /* generous: only a broken wake-up path ever waits this long */

/* A stand-in for the loop's wake-up: a flag and a condition variable. */
struct waker {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int woken;
    int wakes;
};

static void waker_init(struct waker *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->woken = w->wakes = 0;
}

static void waker_destroy(struct waker *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cv);
}

static void wake(void *arg)
{
    struct waker *w = arg;

    pthread_mutex_lock(&w->lock);
    w->woken = 1;
    w->wakes++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
}

/* A job that records where and in which order it ran. */
struct test_job {
    struct pool_job job;
    int index;
    pthread_t run_thread;
    void *worker_state;
    int runs, dones;
    int fail;
    struct gate *gate; /* when set, run() waits for it to open */
};

struct loop_ctx {
    pthread_t loop_thread;
    int done_order[256];
    int ndone;
    int done_off_loop;     /* done callbacks that ran on another thread */
    int failures_reported; /* calls of the pool's `failed` hook */
};

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int open, entered;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = g->entered = 0;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->lock);
}

/* Waits until a job has entered the gate, so we know a worker is busy. */
static void gate_wait_entered(struct gate *g)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_SECS;
    pthread_mutex_lock(&g->lock);
    while (!g->entered)
        assert_int_equal(pthread_cond_timedwait(&g->cv, &g->lock, &until), 0);
    pthread_mutex_unlock(&g->lock);
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cv);
}

static void job_run(struct pool_job *job, void *worker)
{
    struct test_job *t = (struct test_job *)job;

    t->run_thread = pthread_self();
    t->worker_state = worker;
    t->runs++;
    if (t->gate) {
        pthread_mutex_lock(&t->gate->lock);
        t->gate->entered = 1;
        pthread_cond_broadcast(&t->gate->cv);
        while (!t->gate->open)
            pthread_cond_wait(&t->gate->cv, &t->gate->lock);
        pthread_mutex_unlock(&t->gate->lock);
    }
    job->status = t->fail ? -EIO : 0;
}

static void job_done(struct pool_job *job, void *loop_arg)
{
    struct test_job *t = (struct test_job *)job;
    struct loop_ctx *lc = loop_arg;

    t->dones++;
    if (!pthread_equal(pthread_self(), lc->loop_thread))
        lc->done_off_loop++;
    if (lc->ndone < (int)(sizeof(lc->done_order) / sizeof(lc->done_order[0])))
        lc->done_order[lc->ndone] = t->index;
    lc->ndone++;
}

static void jobs_init(struct test_job *jobs, int n)
{
    memset(jobs, 0, (size_t)n * sizeof(*jobs));
    for (int i = 0; i < n; i++) {
        jobs[i].index = i;
        jobs[i].job.run = job_run;
        jobs[i].job.done = job_done;
    }
}

/* Drains until `expected` done callbacks have run, waiting on the wake-up between drains. */
static void drain_until(struct pool *p, struct waker *w, struct loop_ctx *lc, int expected)
{
    struct timespec until;

    while (lc->ndone < expected) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WAIT_SECS;
        pthread_mutex_lock(&w->lock);
        while (!w->woken)
            assert_int_equal(pthread_cond_timedwait(&w->cv, &w->lock, &until), 0);
        w->woken = 0;
        pthread_mutex_unlock(&w->lock);
        pool_drain(p, lc);
    }
}

/* Worker state: distinct per worker, and counted open/close. */
struct states {
    pthread_mutex_t lock;
    int slots[8];
    int opened, closed, fail_index;
};

static void *state_open(void *arg, int index, char *err, size_t errlen)
{
    struct states *st = arg;

    if (index == st->fail_index) {
        snprintf(err, errlen, "refused on purpose");
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    st->opened++;
    pthread_mutex_unlock(&st->lock);
    return &st->slots[index];
}

static void state_close(void *arg, void *worker)
{
    struct states *st = arg;

    assert_non_null(worker);
    pthread_mutex_lock(&st->lock);
    st->closed++;
    pthread_mutex_unlock(&st->lock);
}

static struct pool *make_pool(int workers, size_t queue_max, struct waker *w, struct states *st)
{
    char err[256] = "";
    struct pool *p = pool_create(&(struct pool_cfg){.workers = workers,
                                                    .queue_max = queue_max,
                                                    .worker_open = st ? state_open : NULL,
                                                    .worker_close = st ? state_close : NULL,
                                                    .wake = wake,
                                                    .open_arg = st,
                                                    .wake_arg = w},
                                 err, sizeof(err));
    assert_non_null(p);
    return p;
}

static void test_pool_every_job_runs_once_on_a_worker_and_completes_on_the_loop(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    static struct test_job jobs[200];
    struct pool_stats st;
    struct pool *p;

    waker_init(&w);
    p = make_pool(3, 1000, &w, NULL);
    jobs_init(jobs, 200);
    for (int i = 0; i < 200; i++)
        assert_int_equal(pool_submit(p, &jobs[i].job), 0);
    drain_until(p, &w, &lc, 200);

    for (int i = 0; i < 200; i++) {
        assert_int_equal(jobs[i].runs, 1);
        assert_int_equal(jobs[i].dones, 1);
        assert_false(pthread_equal(jobs[i].run_thread, lc.loop_thread));
    }
    assert_int_equal(lc.done_off_loop, 0);
    pool_get_stats(p, &st);
    assert_int_equal(st.submitted, 200);
    assert_int_equal(st.completed, 200);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.queued, 0);
    assert_true(w.wakes >= 1 && w.wakes <= 200);
    pool_destroy(p, &lc);
    assert_int_equal(lc.ndone, 200); /* destroy ran nothing twice */
    waker_destroy(&w);
}

static void test_pool_one_worker_completes_in_submission_order(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    static struct test_job jobs[100];
    struct pool *p;

    waker_init(&w);
    p = make_pool(1, 1000, &w, NULL);
    jobs_init(jobs, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pool_submit(p, &jobs[i].job), 0);
    drain_until(p, &w, &lc, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(lc.done_order[i], i);
    pool_destroy(p, &lc);
    waker_destroy(&w);
}

static void test_pool_full_queue_refuses_and_refused_job_never_completes(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    struct test_job jobs[4];
    struct gate g;
    struct pool_stats st;
    struct pool *p;

    waker_init(&w);
    gate_init(&g);
    p = make_pool(1, 2, &w, NULL);
    jobs_init(jobs, 4);
    jobs[0].gate = &g;
    assert_int_equal(pool_submit(p, &jobs[0].job), 0);
    gate_wait_entered(&g); /* the only worker is now busy: the queue is empty */
    assert_int_equal(pool_submit(p, &jobs[1].job), 0);
    assert_int_equal(pool_submit(p, &jobs[2].job), 0);
    assert_int_equal(pool_submit(p, &jobs[3].job), -EAGAIN);
    pool_get_stats(p, &st);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.running, 1);
    assert_int_equal(st.refused, 1);

    gate_open(&g);
    drain_until(p, &w, &lc, 3);
    pool_destroy(p, &lc);
    assert_int_equal(lc.ndone, 3);
    assert_int_equal(jobs[3].runs, 0);
    assert_int_equal(jobs[3].dones, 0);
    gate_destroy(&g);
    waker_destroy(&w);
}

/* A lane at its limit holds its jobs while the other lane's jobs run on the free workers;
 * its own queue limit refuses, and its held jobs run once a slot frees. */
static void test_pool_lane_limits_running_and_waiting_without_blocking_other_lanes(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    struct test_job jobs[6];
    struct gate g;
    size_t queued, running;
    char err[256] = "";
    struct pool *p;

    waker_init(&w);
    gate_init(&g);
    p = pool_create(&(struct pool_cfg){.workers = 2,
                                       .queue_max = 8,
                                       .lanes[POOL_LANE_CPU] = {.max_running = 1, .queue_max = 2},
                                       .wake = wake,
                                       .wake_arg = &w},
                    err, sizeof(err));
    assert_non_null(p);
    jobs_init(jobs, 6);
    for (int i = 0; i < 4; i++)
        jobs[i].job.lane = POOL_LANE_CPU;
    jobs[0].gate = &g;
    assert_int_equal(pool_submit(p, &jobs[0].job), 0);
    gate_wait_entered(&g); /* the lane's one slot is taken; a worker is still free */
    assert_int_equal(pool_submit(p, &jobs[1].job), 0);
    assert_int_equal(pool_submit(p, &jobs[2].job), 0);
    assert_int_equal(pool_submit(p, &jobs[3].job), -EAGAIN); /* the lane's queue is full */

    /* the free worker takes database jobs, not the held hashes */
    assert_int_equal(pool_submit(p, &jobs[4].job), 0);
    assert_int_equal(pool_submit(p, &jobs[5].job), 0);
    drain_until(p, &w, &lc, 2);
    assert_int_equal(jobs[4].dones + jobs[5].dones, 2);
    pool_get_lane(p, POOL_LANE_CPU, &queued, &running);
    assert_int_equal(queued, 2);
    assert_int_equal(running, 1);
    assert_int_equal(jobs[1].runs + jobs[2].runs, 0);

    gate_open(&g);
    drain_until(p, &w, &lc, 5);
    pool_destroy(p, &lc);
    assert_int_equal(lc.ndone, 5);
    assert_int_equal(jobs[3].runs, 0);
    gate_destroy(&g);
    waker_destroy(&w);
}

static void *open_gate_later(void *arg)
{
    struct gate *g = arg;

    gate_open(g);
    return NULL;
}

static void test_pool_destroy_finishes_queued_jobs_and_runs_their_done(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    static struct test_job jobs[50];
    struct gate g;
    struct pool *p;
    pthread_t opener;

    waker_init(&w);
    gate_init(&g);
    p = make_pool(2, 100, &w, NULL);
    jobs_init(jobs, 50);
    jobs[0].gate = &g;
    for (int i = 0; i < 50; i++)
        assert_int_equal(pool_submit(p, &jobs[i].job), 0);
    gate_wait_entered(&g);
    /* destroy while a job is still running and others are queued: it must wait for them */
    assert_int_equal(pthread_create(&opener, NULL, open_gate_later, &g), 0);
    pool_destroy(p, &lc);
    pthread_join(opener, NULL);
    assert_int_equal(lc.ndone, 50);
    assert_int_equal(lc.done_off_loop, 0);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(jobs[i].runs, 1);
        assert_int_equal(jobs[i].dones, 1);
    }
    gate_destroy(&g);
    waker_destroy(&w);
}

/* The `failed` hook: on the loop, once per failed job, before that job's done callback. */
static void report_failure(void *loop_arg, const struct pool_job *job)
{
    struct loop_ctx *lc = loop_arg;
    const struct test_job *t = (const struct test_job *)job;

    assert_true(pthread_equal(pthread_self(), lc->loop_thread));
    assert_int_equal(t->dones, 0);
    lc->failures_reported++;
}

static void test_pool_failed_jobs_are_counted_and_still_completed(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    struct test_job jobs[6];
    struct pool_stats st;
    char err[256] = "";
    struct pool *p;

    waker_init(&w);
    p = pool_create(
        &(struct pool_cfg){
            .workers = 2, .queue_max = 10, .failed = report_failure, .wake = wake, .wake_arg = &w},
        err, sizeof(err));
    assert_non_null(p);
    jobs_init(jobs, 6);
    jobs[1].fail = jobs[4].fail = 1;
    for (int i = 0; i < 6; i++)
        assert_int_equal(pool_submit(p, &jobs[i].job), 0);
    drain_until(p, &w, &lc, 6);
    assert_int_equal(jobs[1].job.status, -EIO);
    assert_int_equal(jobs[0].job.status, 0);
    pool_get_stats(p, &st);
    assert_int_equal(st.completed, 6);
    assert_int_equal(st.failed, 2);
    assert_int_equal(lc.failures_reported, 2);
    pool_destroy(p, &lc);
    waker_destroy(&w);
}

static void test_pool_each_worker_has_its_own_state_opened_and_closed_once(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    static struct test_job jobs[60];
    struct states st = {.fail_index = -1};
    struct pool *p;

    pthread_mutex_init(&st.lock, NULL);
    waker_init(&w);
    p = make_pool(3, 100, &w, &st);
    assert_int_equal(st.opened, 3);
    jobs_init(jobs, 60);
    for (int i = 0; i < 60; i++)
        assert_int_equal(pool_submit(p, &jobs[i].job), 0);
    drain_until(p, &w, &lc, 60);
    for (int i = 0; i < 60; i++) {
        ptrdiff_t slot = (int *)jobs[i].worker_state - st.slots;
        assert_true(slot >= 0 && slot < 3);
    }
    pool_destroy(p, &lc);
    assert_int_equal(st.closed, 3);
    pthread_mutex_destroy(&st.lock);
    waker_destroy(&w);
}

static void test_pool_create_fails_when_a_worker_cannot_open(void **state)
{
    struct states st = {.fail_index = 1};
    char err[256] = "";
    struct waker w;
    struct pool *p;

    pthread_mutex_init(&st.lock, NULL);
    waker_init(&w);
    p = pool_create(&(struct pool_cfg){.workers = 3,
                                       .queue_max = 10,
                                       .worker_open = state_open,
                                       .worker_close = state_close,
                                       .wake = wake,
                                       .open_arg = &st,
                                       .wake_arg = &w},
                    err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "worker 1: refused on purpose"));
    /* the workers that did open were shut down and closed their state */
    assert_int_equal(st.closed, st.opened);
    pthread_mutex_destroy(&st.lock);
    waker_destroy(&w);
}

/* A job that runs for at least 2 ms and records its worker's nice value. */
struct timed_job {
    struct test_job t;
    int nice;
};

static void timed_run(struct pool_job *job, void *worker)
{
    struct timed_job *tj = (struct timed_job *)job;
    struct timespec start, now;

    tj->nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    clock_gettime(CLOCK_MONOTONIC, &start);
    do /* a floor on the duration, not a measurement: spin rather than sleep */
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 2000000L);
    job_run(job, worker);
}

static void test_pool_times_jobs_and_lowers_worker_priority(void **state)
{
    struct waker w;
    struct loop_ctx lc = {.loop_thread = pthread_self()};
    struct timed_job jobs[4];
    struct pool_stats st;
    char err[256];
    int base = getpriority(PRIO_PROCESS, 0);
    struct pool *p;

    waker_init(&w);
    p = pool_create(
        &(struct pool_cfg){
            .workers = 2, .queue_max = 10, .wake = wake, .wake_arg = &w, .worker_nice = 5},
        err, sizeof(err));
    assert_non_null(p);
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < 4; i++) {
        jobs[i].t.index = i;
        jobs[i].t.job.run = timed_run;
        jobs[i].t.job.done = job_done;
        assert_int_equal(pool_submit(p, &jobs[i].t.job), 0);
    }
    drain_until(p, &w, &lc, 4);
    pool_get_stats(p, &st);
    assert_true(st.run_p50_us >= 2000);
    assert_true(st.run_max_us >= st.run_p99_us && st.run_p99_us >= st.run_p50_us);
    assert_true(st.wait_max_us >= st.wait_p99_us);
    for (int i = 0; i < 4; i++)
        assert_int_equal(jobs[i].nice, base + 5 > 19 ? 19 : base + 5);
    assert_int_equal(getpriority(PRIO_PROCESS, 0), base); /* the loop thread is untouched */
    pool_destroy(p, &lc);
    waker_destroy(&w);
}

/* --- the real wake-up path through libwebsockets --- */

struct lws_fixture {
    struct pool *pool;
    struct loop_ctx lc;
    int cancelled_callbacks;
    int timed_out;
    lws_sorted_usec_list_t guard;
};

static int cb_test(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct lws_fixture *fx = lws_context_user(lws_get_context(wsi));

    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED && fx && fx->pool) {
        fx->cancelled_callbacks++;
        pool_drain(fx->pool, &fx->lc);
    }
    return 0;
}

static const struct lws_protocols test_protocols[] = {
    {"pool-test", cb_test, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void guard_expired(lws_sorted_usec_list_t *sul)
{
    struct lws_fixture *fx = lws_container_of(sul, struct lws_fixture, guard);

    fx->timed_out = 1;
}

static void lws_wake(void *arg)
{
    lws_cancel_service(arg);
}

static void test_pool_worker_wakes_a_blocked_lws_loop_which_drains_on_the_loop(void **state)
{
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    struct lws_fixture fx = {.lc.loop_thread = pthread_self()};
    static struct test_job jobs[20];
    char err[256];

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = test_protocols;
    info.user = &fx;
    lws_set_log_level(LLL_ERR, NULL);
    ctx = lws_create_context(&info);
    assert_non_null(ctx);

    fx.pool = pool_create(
        &(struct pool_cfg){.workers = 2, .queue_max = 100, .wake = lws_wake, .wake_arg = ctx}, err,
        sizeof(err));
    assert_non_null(fx.pool);
    /* without a working wake-up, lws_service() would sleep until this guard fires */
    lws_sul_schedule(ctx, 0, &fx.guard, guard_expired, (lws_usec_t)WAIT_SECS * LWS_US_PER_SEC);

    jobs_init(jobs, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(pool_submit(fx.pool, &jobs[i].job), 0);
    while (fx.lc.ndone < 20 && !fx.timed_out)
        assert_true(lws_service(ctx, 0) >= 0);

    assert_false(fx.timed_out);
    assert_int_equal(fx.lc.ndone, 20);
    assert_int_equal(fx.lc.done_off_loop, 0);
    assert_true(fx.cancelled_callbacks >= 1);
    for (int i = 0; i < 20; i++)
        assert_int_equal(jobs[i].dones, 1);

    lws_sul_cancel(&fx.guard);
    pool_destroy(fx.pool, &fx.lc);
    fx.pool = NULL;
    lws_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_every_job_runs_once_on_a_worker_and_completes_on_the_loop),
        cmocka_unit_test(test_pool_one_worker_completes_in_submission_order),
        cmocka_unit_test(test_pool_full_queue_refuses_and_refused_job_never_completes),
        cmocka_unit_test(test_pool_lane_limits_running_and_waiting_without_blocking_other_lanes),
        cmocka_unit_test(test_pool_destroy_finishes_queued_jobs_and_runs_their_done),
        cmocka_unit_test(test_pool_failed_jobs_are_counted_and_still_completed),
        cmocka_unit_test(test_pool_each_worker_has_its_own_state_opened_and_closed_once),
        cmocka_unit_test(test_pool_create_fails_when_a_worker_cannot_open),
        cmocka_unit_test(test_pool_times_jobs_and_lowers_worker_priority),
        cmocka_unit_test(test_pool_worker_wakes_a_blocked_lws_loop_which_drains_on_the_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
