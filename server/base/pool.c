/*
 * Worker pool (see pool.h). Threads: pool_submit, pool_drain and pool_destroy on the loop;
 * worker_main on each worker. Everything below `lock` is shared and only touched under it.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "histo.h"

struct job_list {
    struct pool_job *head, *tail;
    size_t count;
};

struct worker {
    struct pool *pool;
    pthread_t thread;
    int index;
    bool started; /* thread created (loop-side bookkeeping) */
};

struct pool {
    struct pool_cfg cfg;
    struct worker *workers;

    pthread_mutex_t lock;
    pthread_cond_t work_cv;   /* jobs queued, or stopping */
    pthread_cond_t opened_cv; /* a worker finished opening */
    /* --- under lock --- */
    struct job_list jobs[POOL_LANES];
    size_t lane_running[POOL_LANES];
    int next_lane; /* where the next search for a job starts */
    struct job_list done;
    bool stopping;
    bool wake_pending; /* the loop was woken and has not drained yet */
    int opened, open_failed;
    char open_err[320];
    size_t running;
    struct pool_stats stats;
    struct histo run_us, wait_us;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void list_push(struct job_list *l, struct pool_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->count++;
}

static struct pool_job *list_pop(struct job_list *l)
{
    struct pool_job *j = l->head;

    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        l->count--;
    }
    return j;
}

static size_t queued_total(const struct pool *p)
{
    size_t n = 0;

    for (int l = 0; l < POOL_LANES; l++)
        n += p->jobs[l].count;
    return n;
}

/* Under lock: true when the lane holds as many jobs waiting for one of its slots as it may.
 * Jobs that a free slot will take at once do not count: whether a worker has picked up the
 * last one yet must not decide whether the next is refused. */
static bool lane_full(const struct pool *p, enum pool_lane l)
{
    const struct pool_lane_cfg *c = &p->cfg.lanes[l];
    size_t slots = c->max_running > 0 ? (size_t)c->max_running : (size_t)p->cfg.workers;
    size_t free_slots = slots > p->lane_running[l] ? slots - p->lane_running[l] : 0;
    size_t max = c->queue_max ? c->queue_max : p->cfg.queue_max;

    return p->jobs[l].count >= max + free_slots;
}

/* Under lock: the oldest job of the next lane that may start one, or NULL. */
static struct pool_job *take_runnable(struct pool *p)
{
    for (int k = 0; k < POOL_LANES; k++) {
        int l = (p->next_lane + k) % POOL_LANES;
        int max = p->cfg.lanes[l].max_running;

        if (p->jobs[l].count && (max <= 0 || p->lane_running[l] < (size_t)max)) {
            p->next_lane = (l + 1) % POOL_LANES;
            p->lane_running[l]++;
            return list_pop(&p->jobs[l]);
        }
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    void *state = NULL;
    char err[256] = "";
    struct pool_job *job;
    bool wake;

    /* Linux keeps a nice value per thread: this lowers the worker, not the process */
    if (p->cfg.worker_nice)
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), p->cfg.worker_nice);
    if (p->cfg.worker_open)
        state = p->cfg.worker_open(p->cfg.open_arg, w->index, err, sizeof(err));
    pthread_mutex_lock(&p->lock);
    if (p->cfg.worker_open && !state) {
        p->open_failed++;
        snprintf(p->open_err, sizeof(p->open_err), "worker %d: %s", w->index,
                 err[0] ? err : "cannot open");
    } else {
        p->opened++;
    }
    pthread_cond_signal(&p->opened_cv);
    if (p->cfg.worker_open && !state) {
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }

    for (;;) {
        /* a job may wait while its lane is at its limit: a finishing job wakes us again */
        while (!(job = take_runnable(p)) && !(p->stopping && !queued_total(p)))
            pthread_cond_wait(&p->work_cv, &p->lock);
        if (!job)
            break; /* stopping and nothing left */
        p->running++;
        pthread_mutex_unlock(&p->lock);

        job->started_ns = now_ns();
        job->run(job, state);
        job->finished_ns = now_ns();

        pthread_mutex_lock(&p->lock);
        p->running--;
        p->lane_running[job->lane]--;
        if (p->jobs[job->lane].count) /* one may start now: maybe on another worker */
            pthread_cond_broadcast(&p->work_cv);
        histo_add(&p->run_us, (uint64_t)(job->finished_ns - job->started_ns) / 1000);
        histo_add(&p->wait_us, (uint64_t)(job->started_ns - job->queued_ns) / 1000);
        list_push(&p->done, job);
        /* one wake-up per drain is enough: the loop takes the whole done list */
        wake = !p->wake_pending;
        p->wake_pending = true;
        pthread_mutex_unlock(&p->lock);
        if (wake && p->cfg.wake)
            p->cfg.wake(p->cfg.wake_arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.worker_close)
        p->cfg.worker_close(p->cfg.open_arg, state);
    return NULL;
}

static void stop_and_join(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->cfg.workers; i++)
        if (p->workers[i].started)
            pthread_join(p->workers[i].thread, NULL);
}

static void pool_free(struct pool *p)
{
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->opened_cv);
    free(p->workers);
    free(p);
}

struct pool *pool_create(const struct pool_cfg *cfg, char *err, size_t errlen)
{
    struct pool *p = calloc(1, sizeof(*p));
    int started = 0, rc;

    if (!p || cfg->workers < 1 || !cfg->queue_max) {
        snprintf(err, errlen, "pool_create: %s", p ? "bad configuration" : "out of memory");
        free(p);
        return NULL;
    }
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->opened_cv, NULL);
    p->workers = calloc((size_t)cfg->workers, sizeof(*p->workers));
    if (!p->workers) {
        snprintf(err, errlen, "pool_create: out of memory");
        pool_free(p);
        return NULL;
    }
    for (int i = 0; i < cfg->workers; i++) {
        p->workers[i] = (struct worker){.pool = p, .index = i};
        rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (rc) {
            snprintf(err, errlen, "pool_create: pthread_create: %s", strerror(rc));
            break;
        }
        p->workers[i].started = true;
        started++;
    }

    pthread_mutex_lock(&p->lock);
    while (p->opened + p->open_failed < started)
        pthread_cond_wait(&p->opened_cv, &p->lock);
    if (p->open_failed)
        snprintf(err, errlen, "%s", p->open_err);
    pthread_mutex_unlock(&p->lock);

    if (started < cfg->workers || p->open_failed) {
        stop_and_join(p);
        pool_free(p);
        return NULL;
    }
    return p;
}

int pool_submit(struct pool *p, struct pool_job *job)
{
    int rc = 0;

    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        rc = -ESHUTDOWN;
    } else if ((unsigned)job->lane >= POOL_LANES || lane_full(p, job->lane)) {
        rc = -EAGAIN;
    } else {
        job->status = 0;
        job->queued_ns = now_ns();
        list_push(&p->jobs[job->lane], job);
        p->stats.submitted++;
        pthread_cond_signal(&p->work_cv);
    }
    if (rc)
        p->stats.refused++;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

size_t pool_drain(struct pool *p, void *loop_arg)
{
    struct job_list done;
    struct pool_job *job;
    size_t n = 0, failed = 0, trailing = 0; /* failures after this batch's last success */
    bool succeeded = false;

    /* take the whole list under the lock, run the callbacks without it */
    pthread_mutex_lock(&p->lock);
    done = p->done;
    p->done = (struct job_list){0};
    p->wake_pending = false;
    pthread_mutex_unlock(&p->lock);

    while ((job = list_pop(&done))) {
        if (job->status) {
            failed++;
            trailing++;
            if (p->cfg.failed)
                p->cfg.failed(loop_arg, job);
        } else {
            succeeded = true;
            trailing = 0;
        }
        n++;
        job->done(job, loop_arg); /* may free the job */
    }
    if (n) {
        pthread_mutex_lock(&p->lock);
        p->stats.completed += n;
        p->stats.failed += failed;
        /* a success ends a run of failures; failures after it start a new one */
        p->stats.failing = (succeeded ? 0 : p->stats.failing) + trailing;
        pthread_mutex_unlock(&p->lock);
    }
    return n;
}

void pool_get_stats(struct pool *p, struct pool_stats *st)
{
    pthread_mutex_lock(&p->lock);
    *st = p->stats;
    st->queued = queued_total(p);
    st->running = p->running;
    st->run_p50_us = histo_percentile(&p->run_us, 50);
    st->run_p99_us = histo_percentile(&p->run_us, 99);
    st->run_max_us = p->run_us.max;
    st->wait_p99_us = histo_percentile(&p->wait_us, 99);
    st->wait_max_us = p->wait_us.max;
    pthread_mutex_unlock(&p->lock);
}

void pool_get_lane(struct pool *p, enum pool_lane lane, size_t *queued, size_t *running)
{
    pthread_mutex_lock(&p->lock);
    *queued = p->jobs[lane].count;
    *running = p->lane_running[lane];
    pthread_mutex_unlock(&p->lock);
}

void pool_get_run_histo(struct pool *p, struct histo *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->run_us;
    pthread_mutex_unlock(&p->lock);
}

void pool_destroy(struct pool *p, void *loop_arg)
{
    if (!p)
        return;
    stop_and_join(p); /* workers empty the job queue before they exit */
    pool_drain(p, loop_arg);
    pool_free(p);
}
