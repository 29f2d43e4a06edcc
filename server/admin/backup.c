/*
 * Online backups (see backup.h). Loop thread, except step_run() on a worker, which makes one
 * call into the store (db_snapshot_step) with the job's own snapshot.
 */
#include "backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "server.h"
#include "snapshot.h"
#include "store.h"

struct backup_job {
    struct pool_job job; /* first: the pool hands it back */
    struct db_snapshot copy;
};

static void step_run(struct pool_job *job, void *worker)
{
    struct db_snapshot *c = &((struct backup_job *)job)->copy;

    db_snapshot_step(c);
    if (c->finished < 0) {
        job->status = -1;
        snprintf(job->error, sizeof(job->error), "%.*s", POOL_ERROR_MAX - 1, c->error);
    }
}

static const char *const state_names[] = {"idle", "running", "done", "failed"};

void backup_init(struct backup *b, struct pool *pool, const char *db_path, const char *dir,
                 int pages_per_step, int64_t (*wall_ms)(void))
{
    *b = (struct backup){.pool = pool,
                         .db_path = db_path,
                         .dir = dir,
                         .pages_per_step = pages_per_step,
                         .wall_ms = wall_ms};
}

static void step_done(struct pool_job *job, void *loop_arg)
{
    struct backup_job *bj = (struct backup_job *)job;
    struct db_snapshot *j = &bj->copy;
    struct backup *b = ((struct server *)loop_arg)->backup;

    b->pages_total = j->pages_total;
    b->pages_done = j->pages_total - j->pages_left;
    if (!j->finished && pool_submit(b->pool, &bj->job)) {
        /* only at shutdown: the pool takes no more steps */
        db_snapshot_close(j);
        unlink(j->partial);
        snprintf(j->error, sizeof(j->error), "stopped: the server is shutting down");
        j->finished = -1;
    }
    if (!j->finished)
        return;
    b->finished_ms = b->wall_ms();
    b->state = j->finished > 0 ? BACKUP_DONE : BACKUP_FAILED;
    snprintf(b->error, sizeof(b->error), "%s", j->error);
    if (b->state == BACKUP_DONE)
        log_info("backup: %s written, %d pages in %lld ms", b->file, b->pages_total,
                 (long long)(b->finished_ms - b->started_ms));
    b->job = NULL;
    free(bj);
}

int backup_start(struct backup *b, char *err, size_t errlen)
{
    struct backup_job *bj;
    struct db_snapshot *j;
    char stamp[32];
    int64_t now_ms;
    time_t now;
    struct tm tm;

    if (store_engine_for(b->db_path) != &store_sqlite_engine) {
        snprintf(err, errlen,
                 "parlor backs up only SQLite databases: back up PostgreSQL with pg_dump or "
                 "pg_basebackup");
        return -ENOTSUP;
    }
    if (!b->dir) {
        snprintf(err, errlen, "backups are disabled: start the server with --backup-dir");
        return -ENOENT;
    }
    if (b->state == BACKUP_RUNNING) {
        snprintf(err, errlen, "a backup is already running");
        return -EBUSY;
    }
    bj = calloc(1, sizeof(*bj));
    if (!bj) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    now_ms = b->wall_ms();
    now = (time_t)(now_ms / 1000);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), "-%03d", (int)(now_ms % 1000));
    j = &bj->copy;
    bj->job.run = step_run;
    bj->job.done = step_done;
    bj->job.failure = "the backup failed";
    j->pages_per_step = b->pages_per_step;
    snprintf(j->src_path, sizeof(j->src_path), "%s", b->db_path);
    snprintf(j->final, sizeof(j->final), "%s/parlor-%s.db", b->dir, stamp);
    snprintf(j->partial, sizeof(j->partial), "%s.partial", j->final);
    if (pool_submit(b->pool, &bj->job)) {
        free(bj);
        snprintf(err, errlen, "the server is busy; try again");
        return -EAGAIN;
    }
    b->job = bj;
    b->state = BACKUP_RUNNING;
    snprintf(b->file, sizeof(b->file), "%s", j->final);
    b->started_ms = b->wall_ms();
    b->finished_ms = 0;
    b->pages_total = b->pages_done = 0;
    b->error[0] = '\0';
    log_info("backup: started, writing %s", b->file);
    return 0;
}

json_t *backup_status_json(const struct backup *b)
{
    json_t *o = json_pack("{s:s, s:b}", "state", state_names[b->state], "enabled", b->dir != NULL);

    if (b->state == BACKUP_IDLE)
        return o;
    json_object_set_new(o, "file", json_string(b->file));
    json_object_set_new(o, "started", json_integer(b->started_ms));
    json_object_set_new(o, "finished", b->finished_ms ? json_integer(b->finished_ms) : json_null());
    json_object_set_new(o, "pages_total", json_integer(b->pages_total));
    json_object_set_new(o, "pages_done", json_integer(b->pages_done));
    json_object_set_new(o, "error", b->error[0] ? json_string(b->error) : json_null());
    return o;
}
