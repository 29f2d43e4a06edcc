/*
 * Online backups of the database while the server keeps serving: one at a time, each step of
 * the copy (store/snapshot.h) one pool job, so other jobs run between steps; the copy is one
 * consistent snapshot, written to parlor-<time>.db in --backup-dir. Operators start them from
 * the console or POST /admin/backup and read their state from backup_status_json(). Loop
 * thread only, except the step itself, which runs on a worker.
 */
#ifndef PARLOR_BACKUP_H
#define PARLOR_BACKUP_H

#include <limits.h>
#include <stdint.h>

#include <jansson.h>

struct pool;
struct backup_job;

enum backup_state { BACKUP_IDLE, BACKUP_RUNNING, BACKUP_DONE, BACKUP_FAILED };

struct backup {
    struct pool *pool;
    const char *db_path;
    const char *dir; /* NULL: backups are disabled */
    int pages_per_step;
    int64_t (*wall_ms)(void);

    enum backup_state state;
    char file[PATH_MAX];
    int64_t started_ms, finished_ms;
    int pages_total, pages_done;
    char error[256];
    struct backup_job *job; /* the step on a worker, or NULL */
};

void backup_init(struct backup *b, struct pool *pool, const char *db_path, const char *dir,
                 int pages_per_step, int64_t (*wall_ms)(void));
/* Starts a backup. 0; -ENOTSUP when the database is not SQLite (PostgreSQL has its own tools);
 * -EBUSY when one is running; -ENOENT when no directory is configured; -EAGAIN when the pool
 * refused the first step; with a reason in err. */
int backup_start(struct backup *b, char *err, size_t errlen);
/* The state as JSON: {state, file, started, finished, pages_total, pages_done, error}. */
json_t *backup_status_json(const struct backup *b);

#endif
