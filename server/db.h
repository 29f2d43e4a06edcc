/*
 * SQLite connections for the worker pool: each worker opens its own connection to the same
 * file when it starts and closes it when it stops. Worker threads only.
 */
#ifndef PARLOR_DB_H
#define PARLOR_DB_H

#include <stddef.h>

/* pool_cfg.worker_open: `arg` is the database path. Returns a sqlite3 *, or NULL with err. */
void *db_worker_open(void *arg, int index, char *err, size_t errlen);
/* pool_cfg.worker_close. */
void db_worker_close(void *arg, void *worker);

#endif
