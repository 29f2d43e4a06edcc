/*
 * SQLite connections for the worker pool: each worker opens its own connection to the same
 * file when it starts and closes it when it stops. Worker threads only, except
 * db_prepare_file(), which runs once at startup before the loop serves anyone.
 */
#ifndef PARLOR_DB_H
#define PARLOR_DB_H

#include <stddef.h>

/* Startup, before the workers exist: creates the file if needed and switches it to WAL once
 * (workers switching concurrently can see "database is locked"). 0, or -1 with err. */
int db_prepare_file(const char *path, char *err, size_t errlen);
/* pool_cfg.worker_open: `arg` is the database path. Returns a sqlite3 *, or NULL with err. */
void *db_worker_open(void *arg, int index, char *err, size_t errlen);
/* pool_cfg.worker_close. */
void db_worker_close(void *arg, void *worker);

#endif
