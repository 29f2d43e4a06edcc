/*
 * Per-worker SQLite connections (see db.h). WAL lets the workers read while one writes;
 * synchronous=FULL makes a committed transaction survive power loss.
 */
#include "db.h"

#include <stdio.h>

#include <sqlite3.h>

#define DB_BUSY_TIMEOUT_MS 5000

static sqlite3 *open_connection(const char *path, const char *pragmas, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc;

    /* NOMUTEX: a connection is only ever used by the thread that opened it */
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(db, pragmas, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        return db;
    snprintf(err, errlen, "database '%s': %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return NULL;
}

int db_prepare_file(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = open_connection(path, "PRAGMA journal_mode=WAL;", err, errlen);

    if (!db)
        return -1;
    sqlite3_close(db);
    return 0;
}

void *db_worker_open(void *arg, int index, char *err, size_t errlen)
{
    return open_connection(arg, "PRAGMA synchronous=FULL;", err, errlen);
}

void db_worker_close(void *arg, void *worker)
{
    sqlite3_close(worker);
}
