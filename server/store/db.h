/*
 * SQLite for the worker pool: each worker opens its own connection to the same file when it
 * starts and closes it when it stops, with its prepared statements cached beside it. Worker
 * threads only, except db_prepare_file(), which runs once at startup before the loop serves.
 */
#ifndef PARLOR_DB_H
#define PARLOR_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "pool.h"

/* Statements a worker keeps prepared; store.c owns their SQL. */
enum db_stmt {
    DB_INSERT_MESSAGE,
    DB_SELECT_HISTORY,
    DB_INSERT_USER,
    DB_SELECT_USER,
    DB_INSERT_GAME,
    DB_INSERT_RESULT,
    DB_ADD_POINTS,
    DB_SELECT_LEADERBOARD,
    DB_SELECT_RANK,
    DB_NSTMT
};

#define DB_ERROR_MAX 200

struct db_worker {
    sqlite3 *db;
    sqlite3_stmt *stmt[DB_NSTMT];
    int index;
    char error[DB_ERROR_MAX]; /* the last failure db_error reported, for the job to carry */
};

/* Worker: logs a failure ("worker N: ...") and keeps its text in w->error, so the job can take
 * it to the loop (pool_job.error), where the operator's console sees it. */
void db_error(struct db_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Worker: ends a job with `status`; on failure the job carries the worker's last error. */
void db_job_result(struct pool_job *job, struct db_worker *w, int status);

/* What the workers open: the file and its durability setting. */
struct db_cfg {
    const char *path;
    bool sync_full; /* synchronous=FULL (default) or NORMAL */
};

/* Startup, before the workers exist: creates the file if needed, switches it to WAL once
 * (workers switching concurrently can see "database is locked") and migrates the schema.
 * Returns an open connection for the caller's startup reads (close it with sqlite3_close),
 * or NULL with err. */
sqlite3 *db_prepare_file(const char *path, char *err, size_t errlen);
/* pool_cfg.worker_open: `arg` is a struct db_cfg. Returns a struct db_worker, or NULL + err. */
void *db_worker_open(void *arg, int index, char *err, size_t errlen);
/* pool_cfg.worker_close. */
void db_worker_close(void *arg, void *worker);
/* The worker's prepared statement, reset and unbound; NULL if it cannot be prepared. */
sqlite3_stmt *db_stmt(struct db_worker *w, enum db_stmt which);
/* Runs a statement without results ("BEGIN IMMEDIATE", "COMMIT"...). 0 or -1 (logged). */
int db_exec(struct db_worker *w, const char *sql);

#endif
