/*
 * The question bank: every quiz question, in memory (a few hundred bytes each), loaded from
 * SQLite at startup. Packs are JSON-lines files imported in one transaction, where one bad
 * record fails the whole import with an error naming its line and field. Loading and drawing
 * run on the loop; importing runs at startup, from the `import` command, or on a worker.
 */
#ifndef PARLOR_QBANK_H
#define PARLOR_QBANK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "quiz.h"

/* Questions are allocated one by one and only appended while the server runs: a running
 * game keeps pointers to its questions across imports. */
struct qbank {
    struct quiz_question **qs;
    size_t n, cap;
};

void qbank_init(struct qbank *b);
void qbank_destroy(struct qbank *b);
/* Replaces the bank's contents with the `questions` table. 0 or -1 with err. */
int qbank_load(struct qbank *b, sqlite3 *db, char *err, size_t errlen);
/* Imports a JSON-lines pack into `db` as pack `pack`, in one transaction: all or nothing.
 * Lines are {"category", "text", "choices": [4 distinct strings], "correct": 0-3} and may carry
 * "lang", a BCP 47 tag; questions already in the pack are skipped. 0 with *added set, or -1 with
 * err naming line and field. */
int qbank_import(sqlite3 *db, const char *path, const char *pack, int *added, char *err,
                 size_t errlen);
/* The same from an open stream named `label` in errors; the questions it adds are also
 * appended to `added_to` when that is not NULL. */
int qbank_import_stream(sqlite3 *db, FILE *in, const char *label, const char *pack, int *added,
                        struct qbank *added_to, char *err, size_t errlen);
/* Moves every question of `from` to the end of `to`; `from` is left empty. 0 or -1 (OOM). */
int qbank_take(struct qbank *to, struct qbank *from);
/* Picks `n` distinct questions at random. 0, or -1 when the bank holds fewer. */
int qbank_draw(const struct qbank *b, int n, const struct quiz_question **out, uint64_t *rng);

#endif
