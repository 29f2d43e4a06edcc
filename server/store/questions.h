/*
 * The question bank's storage: packs are JSON-lines files imported in one transaction, where
 * one bad record fails the whole import with an error naming its line and field; loading
 * fills a bank (rules/qbank.h) from the `questions` table. Whichever thread calls these owns
 * `db`: the main thread at startup and for the `import` command, a worker for an upload.
 */
#ifndef PARLOR_QUESTIONS_H
#define PARLOR_QUESTIONS_H

#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

#include "qbank.h"

/* Replaces the bank's contents with the `questions` table. 0 or -1 with err. */
int questions_load(struct qbank *b, sqlite3 *db, char *err, size_t errlen);
/* Imports a JSON-lines pack read from `in` into `db` as pack `pack`, in one transaction: all
 * or nothing. Lines are {"category", "text", "choices": [4 distinct strings], "correct": 0-3}
 * and may carry "lang", a BCP 47 tag; questions already in the pack are skipped. 0 with *added
 * set, or -1 with err naming `label`, line and field. The questions it adds are also appended
 * to `added_to` when that is not NULL. */
int questions_import_stream(sqlite3 *db, FILE *in, const char *label, const char *pack, int *added,
                            struct qbank *added_to, char *err, size_t errlen);

#endif
