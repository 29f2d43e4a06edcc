/*
 * The worker pool: N threads run slow jobs (SQLite transactions, hashing, backups) off the
 * loop. Crossing threads is exactly two queues: the loop submits to the job queue; a worker
 * runs the job and appends it to the done queue, then wakes the loop (lws_cancel_service() in
 * the server), which drains the done queue and runs each job's done callback on the loop.
 *
 * Contract, in the spirit of uv_queue_work: every job that pool_submit() accepts runs exactly
 * once and its done callback runs exactly once, on the loop thread, success or failure; a job
 * that pool_submit() refuses never runs and its done callback is never called.
 */
#ifndef PARLOR_POOL_H
#define PARLOR_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "histo.h"

struct pool;

#define POOL_ERROR_MAX 200

/* Lanes keep one kind of slow work from taking every worker, as libuv caps its slow-I/O
 * threads: a lane runs at most its `max_running` jobs at once and holds at most its
 * `queue_max` waiting. Workers take the oldest job of the next lane that may run one, lane
 * after lane in turn, so a burst in one lane does not starve the other. */
enum pool_lane {
    POOL_LANE_DB,  /* database transactions (the default) */
    POOL_LANE_CPU, /* password hashing: 128 MiB and tenths of a second each */
    POOL_LANES
};

struct pool_lane_cfg {
    int max_running;  /* 0: as many as there are workers */
    size_t queue_max; /* jobs waiting for a slot, beyond those a free slot takes at once;
                         0: the pool's queue_max */
};

struct pool_job {
    /* Worker thread: does the work with the worker's own state (its sqlite3 *) and sets
     * `status` (0 for success). Must not touch loop-owned state. */
    void (*run)(struct pool_job *job, void *worker);
    /* Loop thread, after run: delivers the result. May free the job. `loop_arg` is what the
     * loop passed to pool_drain(): in parlor always the struct server, so a job carries no
     * pointer into loop-owned state, only values and ids (a session's id, never the session). */
    void (*done)(struct pool_job *job, void *loop_arg);
    /* run: 0, or non-zero when the work failed (the database, the disk, memory). An expected
     * outcome (a wrong password, a name that exists, a bad upload) is a result in the job's
     * own fields, with status 0: status is what the operators are told about. */
    int status;
    char error[POOL_ERROR_MAX]; /* run: what failed, when status says so (or empty) */
    const char *failure; /* what operators read when it fails: "chat messages could not be saved" */
    enum pool_lane lane; /* set before pool_submit; 0 is POOL_LANE_DB */

    /* owned by the pool; the times (CLOCK_MONOTONIC) may be read by the done callback */
    struct pool_job *next;
    int64_t queued_ns, started_ns, finished_ns;
};

struct pool_cfg {
    int workers;
    size_t queue_max; /* jobs waiting for a worker, per lane; submit fails beyond it */
    struct pool_lane_cfg lanes[POOL_LANES]; /* zero: no limit of its own */
    /* Worker thread, once at start: the worker's private state; NULL is a failure that
     * makes pool_create() fail. May be NULL (no state). */
    void *(*worker_open)(void *open_arg, int index, char *err, size_t errlen);
    /* Worker thread, once at exit. May be NULL. */
    void (*worker_close)(void *open_arg, void *worker);
    /* Loop thread, from pool_drain(), before the done callback of each job whose status is
     * not 0: the one place failures of every job type are reported. May be NULL. */
    void (*failed)(void *loop_arg, const struct pool_job *job);
    /* Any thread: make the loop call pool_drain() soon. */
    void (*wake)(void *wake_arg);
    void *open_arg;
    void *wake_arg;
    /* Added to each worker's nice value: background work yields the CPU to the loop thread,
     * which must answer players at once (0 leaves the priority alone). */
    int worker_nice;
};

struct pool_stats {
    size_t queued;      /* waiting for a worker */
    size_t running;     /* on a worker now */
    uint64_t submitted; /* accepted by pool_submit */
    uint64_t refused;   /* refused by pool_submit (full or stopping) */
    uint64_t completed; /* done callbacks run */
    uint64_t failed;    /* of those, with status != 0 */
    uint64_t failing;   /* failures since the last success: the store is degraded while > 0 */
    uint64_t run_p50_us, run_p99_us, run_max_us; /* time in run(), over the pool's life */
    uint64_t wait_p99_us, wait_max_us;           /* time queued before a worker took it */
};

/* Starts the workers and waits until each has opened its state. NULL on failure, with the
 * reason in `err`. */
struct pool *pool_create(const struct pool_cfg *cfg, char *err, size_t errlen);
/* Loop thread. 0, -EAGAIN when the job's lane is full, -ESHUTDOWN when the pool is stopping. */
int pool_submit(struct pool *p, struct pool_job *job);
/* Loop thread: runs the done callbacks of finished jobs, in completion order. Returns how many. */
size_t pool_drain(struct pool *p, void *loop_arg);
void pool_get_stats(struct pool *p, struct pool_stats *st);
/* Jobs of one lane waiting and running now. */
void pool_get_lane(struct pool *p, enum pool_lane lane, size_t *queued, size_t *running);
/* A copy of the histogram of run() times, in microseconds. */
void pool_get_run_histo(struct pool *p, struct histo *out);
/* Loop thread: refuses new jobs, lets the workers finish every queued job, joins them, then
 * runs the remaining done callbacks here. NULL is a no-op. */
void pool_destroy(struct pool *p, void *loop_arg);

#endif
