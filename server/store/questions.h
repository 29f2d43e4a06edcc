/*
 * Question packs, whatever the engine: packs are JSON-lines files imported in one
 * transaction, where one bad record fails the whole import with an error naming its line and
 * field. The parsing and checking live here once; an engine supplies its transaction and its
 * insert (struct questions_sink). Whichever thread calls these owns the engine's connection:
 * the main thread at startup and for the `import` command, a worker for an upload.
 */
#ifndef PARLOR_QUESTIONS_H
#define PARLOR_QUESTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qbank.h"

/* One checked question, as an engine stores it. */
struct question_row {
    const char *pack;
    const char *category;
    const char *text;
    const char *choices; /* a JSON array of 4 strings, compact */
    int correct;         /* 0..3 */
    const char *lang;    /* a BCP 47 tag, or NULL */
};

/* An engine's side of an import. Each returns 0, or -1 with the reason in `why` (the
 * database's message); insert returns 1 with *id when it added the question, 0 when the pack
 * already had it. rollback also runs after a failed begin. */
struct questions_sink {
    int (*begin)(void *arg, char *why, size_t wlen);
    int (*insert)(void *arg, const struct question_row *q, int64_t *id, char *why, size_t wlen);
    int (*commit)(void *arg, char *why, size_t wlen);
    void (*rollback)(void *arg);
};

/* Imports a JSON-lines pack read from `in` as pack `pack` through `sink`, in one transaction:
 * all or nothing. Lines are {"category", "text", "choices": [4 distinct strings], "correct":
 * 0-3} and may carry "lang", a BCP 47 tag; questions already in the pack are skipped. 0 with
 * *added set, or -1 with err naming `label`, line and field. The questions it adds are also
 * appended to `added_to` when that is not NULL. */
int questions_import(const struct questions_sink *sink, void *arg, FILE *in, const char *label,
                     const char *pack, int *added, struct qbank *added_to, char *err,
                     size_t errlen);
/* Adds one stored question to a bank, its choices as stored (JSON). 0, or -1 with err when the
 * row is damaged or memory runs out. */
int questions_add_stored(struct qbank *b, int64_t id, const char *category, const char *text,
                         const char *choices, int correct, const char *lang, char *err,
                         size_t errlen);

#endif
