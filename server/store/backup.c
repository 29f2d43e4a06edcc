/*
 * Online backup (see backup.h). Loop thread, except step_run() on a worker, which touches only
 * its job, including the two connections the job owns.
 */
#include "backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "pool.h"

struct backup_job {
    struct pool_job job; /* first: the pool hands it back */
    struct backup *b;
    char src_path[PATH_MAX];
    char partial[PATH_MAX + 16];
    char final[PATH_MAX];
    int pages_per_step;
    sqlite3 *src, *dst;
    sqlite3_backup *bk;
    /* results of the last step, read on the loop after it */
    int pages_total, pages_left;
    int finished; /* 1 done, -1 failed */
    char error[200];
};

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

static void job_close(struct backup_job *j)
{
    if (j->bk)
        sqlite3_backup_finish(j->bk);
    j->bk = NULL;
    sqlite3_close(j->dst); /* closing ends the source's read transaction too */
    sqlite3_close(j->src);
    j->src = j->dst = NULL;
}

static void fail(struct backup_job *j, const char *what, sqlite3 *db)
{
    snprintf(j->error, sizeof(j->error), "%s: %s", what, db ? sqlite3_errmsg(db) : "failed");
    job_close(j);
    unlink(j->partial);
    j->finished = -1;
    j->job.status = -1;
    snprintf(j->job.error, sizeof(j->job.error), "%.*s", POOL_ERROR_MAX - 1, j->error);
}

/* First step: both connections, the snapshot, the backup handle. */
static int step_open(struct backup_job *j)
{
    if (sqlite3_open_v2(j->src_path, &j->src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)) {
        fail(j, "open the database", j->src);
        return -1;
    }
    sqlite3_busy_timeout(j->src, 5000);
    /* the read transaction that pins the snapshot for every later step */
    if (sqlite3_exec(j->src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL)) {
        fail(j, "start a read transaction", j->src);
        return -1;
    }
    if (sqlite3_open_v2(j->partial, &j->dst,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)) {
        fail(j, "create the backup file", j->dst);
        return -1;
    }
    j->bk = sqlite3_backup_init(j->dst, "main", j->src, "main");
    if (!j->bk) {
        fail(j, "start the backup", j->dst);
        return -1;
    }
    return 0;
}

static void step_run(struct pool_job *job, void *worker)
{
    struct backup_job *j = (struct backup_job *)job;
    int rc;

    if (!j->bk && step_open(j))
        return;
    rc = sqlite3_backup_step(j->bk, j->pages_per_step);
    j->pages_total = sqlite3_backup_pagecount(j->bk);
    j->pages_left = sqlite3_backup_remaining(j->bk);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return; /* more to do (or try again) on the next step */
    if (rc != SQLITE_DONE) {
        fail(j, "copy pages", j->dst);
        return;
    }
    if (sqlite3_backup_finish(j->bk) != SQLITE_OK) {
        j->bk = NULL;
        fail(j, "finish the backup", j->dst);
        return;
    }
    j->bk = NULL;
    job_close(j);
    if (rename(j->partial, j->final)) {
        snprintf(j->error, sizeof(j->error), "rename into place: %s", strerror(errno));
        snprintf(j->job.error, sizeof(j->job.error), "%.*s", POOL_ERROR_MAX - 1, j->error);
        unlink(j->partial);
        j->job.status = -1;
        j->finished = -1;
        return;
    }
    j->finished = 1;
}

static void step_done(struct pool_job *job, void *loop_arg)
{
    struct backup_job *j = (struct backup_job *)job;
    struct backup *b = j->b;

    b->pages_total = j->pages_total;
    b->pages_done = j->pages_total - j->pages_left;
    if (!j->finished && pool_submit(b->pool, &j->job)) {
        /* only at shutdown: the pool takes no more steps */
        job_close(j);
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
    free(j);
}

int backup_start(struct backup *b, char *err, size_t errlen)
{
    struct backup_job *j;
    char stamp[32];
    int64_t now_ms;
    time_t now;
    struct tm tm;

    if (!b->dir) {
        snprintf(err, errlen, "backups are disabled: start the server with --backup-dir");
        return -ENOENT;
    }
    if (b->state == BACKUP_RUNNING) {
        snprintf(err, errlen, "a backup is already running");
        return -EBUSY;
    }
    j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    now_ms = b->wall_ms();
    now = (time_t)(now_ms / 1000);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), "-%03d", (int)(now_ms % 1000));
    j->b = b;
    j->job.run = step_run;
    j->job.done = step_done;
    j->job.failure = "the backup failed";
    j->pages_per_step = b->pages_per_step;
    snprintf(j->src_path, sizeof(j->src_path), "%s", b->db_path);
    snprintf(j->final, sizeof(j->final), "%s/parlor-%s.db", b->dir, stamp);
    snprintf(j->partial, sizeof(j->partial), "%s.partial", j->final);
    if (pool_submit(b->pool, &j->job)) {
        free(j);
        snprintf(err, errlen, "the server is busy; try again");
        return -EAGAIN;
    }
    b->job = j;
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
