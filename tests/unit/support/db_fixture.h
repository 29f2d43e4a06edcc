/*
 * A temporary SQLite database and a real worker pool for tests of the code that runs jobs:
 * the file is created and migrated as at startup (store_prepare), the workers open it as in
 * the server, and the pool wakes the test instead of an lws loop, which then drains it. The
 * test's thread plays the loop.
 */
#ifndef PARLOR_DB_FIXTURE_H
#define PARLOR_DB_FIXTURE_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "pool.h"
#include "store.h"

#define DB_FIXTURE_WAIT_S 10 /* only a broken wake-up path ever waits this long */

struct db_fixture {
    char dir[64];   /* a fresh directory under /tmp, removed by db_fixture_close */
    char path[128]; /* the database in it */
    struct store_cfg dbc;
    struct pool *pool;                      /* NULL when opened with no workers */
    struct pool_lane_cfg lanes[POOL_LANES]; /* set before db_fixture_open, or left zero */
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int wakes; /* wake-ups not yet waited for */
};

/* Creates the directory and the database and starts `workers` workers (0: no pool) with a
 * queue of `queue_max`. 0, or -1 with err. */
int db_fixture_open(struct db_fixture *f, int workers, size_t queue_max, char *err, size_t errlen);
/* Finishes the pool's jobs (their done callbacks get `loop_arg`), stops it and removes the
 * directory. */
void db_fixture_close(struct db_fixture *f, void *loop_arg);
/* Waits for the pool to wake the loop, then runs the done callbacks of finished jobs with
 * `loop_arg`. How many ran, or -1 when nothing woke it within DB_FIXTURE_WAIT_S. */
int db_fixture_wait(struct db_fixture *f, void *loop_arg);
/* A second connection to the database, for the test's own reads; close with sqlite3_close. */
sqlite3 *db_fixture_connect(struct db_fixture *f);
/* The first column of the first row of `sql`, as an integer; -1 when there is no row. */
long long db_fixture_count(struct db_fixture *f, const char *sql);

#endif
