/*
 * The question bank: every quiz question, in memory (a few hundred bytes each), filled from
 * the database at startup (store/questions.h) and drawn from by games. Loop thread only,
 * except that an import on a worker fills a bank of its own, which the loop then takes.
 */
#ifndef PARLOR_QBANK_H
#define PARLOR_QBANK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "quiz.h"

/* Questions are allocated one by one and only appended while the server runs: a running
 * game keeps pointers to its questions across imports. */
struct qbank {
    struct quiz_question **qs;
    size_t n, cap;
};

void qbank_init(struct qbank *b);
void qbank_destroy(struct qbank *b);
/* Appends a question; `choices` is an array of QUIZ_CHOICES strings. 0, or -1 (OOM). */
int qbank_add(struct qbank *b, int64_t id, const char *category, const char *text, json_t *choices,
              int correct, const char *lang);
/* Moves every question of `from` to the end of `to`; `from` is left empty. 0 or -1 (OOM). */
int qbank_take(struct qbank *to, struct qbank *from);
/* Picks `n` distinct questions at random. 0, or -1 when the bank holds fewer. */
int qbank_draw(const struct qbank *b, int n, const struct quiz_question **out, uint64_t *rng);
/* The question with `id` (a cluster's game names its questions by id), or NULL. */
const struct quiz_question *qbank_find(const struct qbank *b, int64_t id);

#endif
