/*
 * The temporary database and pool of tests (see db_fixture.h). The test's thread, except
 * wake(), which the pool's workers call.
 */
#include "db_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void wake(void *arg)
{
    struct db_fixture *f = arg;

    pthread_mutex_lock(&f->lock);
    f->wakes++;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->lock);
}

int db_fixture_open(struct db_fixture *f, int workers, size_t queue_max, char *err, size_t errlen)
{
    struct pool_lane_cfg lanes[POOL_LANES];

    memcpy(lanes, f->lanes, sizeof(lanes)); /* the one field a caller sets before opening */
    memset(f, 0, sizeof(*f));
    memcpy(f->lanes, lanes, sizeof(lanes));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cv, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/parlor-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        f->dir[0] = '\0';
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    f->dbc = (struct store_cfg){.target = f->path, .sync_full = true};
    if (store_prepare(&f->dbc, err, errlen))
        return -1;
    if (!workers)
        return 0;
    f->pool = pool_create(&(struct pool_cfg){.workers = workers,
                                             .queue_max = queue_max,
                                             .lanes = {f->lanes[0], f->lanes[1]},
                                             .worker_open = store_worker_open,
                                             .worker_close = store_worker_close,
                                             .wake = wake,
                                             .open_arg = &f->dbc,
                                             .wake_arg = f},
                          err, errlen);
    return f->pool ? 0 : -1;
}

void db_fixture_close(struct db_fixture *f, void *loop_arg)
{
    char cmd[128];

    pool_destroy(f->pool, loop_arg);
    f->pool = NULL;
    if (f->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (system(cmd))
            fprintf(stderr, "db_fixture: could not remove %s\n", f->dir);
        f->dir[0] = '\0';
    }
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->lock);
}

int db_fixture_wait(struct db_fixture *f, void *loop_arg)
{
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DB_FIXTURE_WAIT_S;
    pthread_mutex_lock(&f->lock);
    while (!f->wakes && rc == 0)
        rc = pthread_cond_timedwait(&f->cv, &f->lock, &until);
    if (f->wakes)
        f->wakes = 0;
    else
        rc = -1;
    pthread_mutex_unlock(&f->lock);
    if (rc < 0)
        return -1;
    return (int)pool_drain(f->pool, loop_arg);
}

sqlite3 *db_fixture_connect(struct db_fixture *f)
{
    sqlite3 *db = NULL;

    if (sqlite3_open(f->path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

long long db_fixture_count(struct db_fixture *f, const char *sql)
{
    sqlite3 *db = db_fixture_connect(f);
    sqlite3_stmt *st = NULL;
    long long n = -1;

    if (db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}
