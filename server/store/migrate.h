/*
 * Moving a club from one store to another (`parlor-server migrate`, usually a SQLite file to
 * PostgreSQL): every durable row, ids and seqs as they are, so passwords, tokens, results and
 * paged history keep working on the target. The engines know only their own SQL: each streams
 * its rows out (export_rows, from one snapshot) and takes rows in (import_begin ... import_end,
 * one transaction), as generic rows of store_tables; this module joins the two and counts.
 * Main thread, one-shot, no pool.
 */
#ifndef PARLOR_MIGRATE_H
#define PARLOR_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* What was copied. */
struct migrate_report {
    int64_t rows[STORE_NTABLES]; /* by enum store_table_id */
    int64_t rooms;               /* distinct rooms among the messages */
    int64_t packs;               /* distinct packs among the questions */
};

/* Brings `from` and `to` (a SQLite path or a PostgreSQL URI each) to the latest schema, then
 * copies every row of `from` into `to` in one transaction of `to`. A target that holds any row
 * is refused unless `replace`, which empties its tables first, in that same transaction. 0, or
 * -1 with err; then nothing was written to `to` (beyond bringing its schema up to date). */
int migrate_run(const char *from, const char *to, bool replace, struct migrate_report *report,
                char *err, size_t errlen);

#endif
