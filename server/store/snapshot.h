/*
 * A consistent copy of a live SQLite database with SQLite's backup API, a few pages per call,
 * so other jobs run between steps. The copy holds its own read transaction on the source from
 * the first step to the last: in WAL mode writers go on, and the copy is one snapshot (without
 * it, every chat commit from another connection would restart the copy). It is written to a
 * ".partial" file renamed into place when complete, so a file with the final name is always
 * whole. Worker thread: one step at a time, on whichever worker the caller's job runs.
 */
#ifndef PARLOR_SNAPSHOT_H
#define PARLOR_SNAPSHOT_H

#include <limits.h>

#include <sqlite3.h>

struct db_snapshot {
    /* set by the caller before the first step */
    char src_path[PATH_MAX];
    char partial[PATH_MAX + 16];
    char final[PATH_MAX];
    int pages_per_step;
    /* owned by the steps */
    sqlite3 *src, *dst;
    sqlite3_backup *bk;
    /* after each step */
    int pages_total, pages_left;
    int finished; /* 0 more to do, 1 done, -1 failed (`error` says why) */
    char error[200];
};

/* Copies the next pages_per_step pages (opening both databases on the first call). */
void db_snapshot_step(struct db_snapshot *s);
/* Closes both connections; the caller unlinks `partial` when it gives up. */
void db_snapshot_close(struct db_snapshot *s);

#endif
