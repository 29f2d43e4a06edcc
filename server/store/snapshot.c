/*
 * Copying a live database into a file (see snapshot.h). Worker thread: every call touches only
 * the snapshot it is given, including the two connections it owns.
 */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void db_snapshot_close(struct db_snapshot *j)
{
    if (j->bk)
        sqlite3_backup_finish(j->bk);
    j->bk = NULL;
    sqlite3_close(j->dst); /* closing ends the source's read transaction too */
    sqlite3_close(j->src);
    j->src = j->dst = NULL;
}

static void fail(struct db_snapshot *j, const char *what, sqlite3 *db)
{
    snprintf(j->error, sizeof(j->error), "%s: %s", what, db ? sqlite3_errmsg(db) : "failed");
    db_snapshot_close(j);
    unlink(j->partial);
    j->finished = -1;
}

/* First step: both connections, the snapshot, the backup handle. */
static int step_open(struct db_snapshot *j)
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

void db_snapshot_step(struct db_snapshot *j)
{
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
    db_snapshot_close(j);
    if (rename(j->partial, j->final)) {
        snprintf(j->error, sizeof(j->error), "rename into place: %s", strerror(errno));
        unlink(j->partial);
        j->finished = -1;
        return;
    }
    j->finished = 1;
}
