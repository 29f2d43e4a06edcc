/* The question bank in memory (see qbank.h). Loop thread only. */
#include "qbank.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void qbank_init(struct qbank *b)
{
    *b = (struct qbank){0};
}

static void question_free(struct quiz_question *q)
{
    if (!q)
        return;
    free(q->category);
    free(q->text);
    free(q->lang);
    for (int i = 0; i < QUIZ_CHOICES; i++)
        free(q->choices[i]);
    free(q);
}

void qbank_destroy(struct qbank *b)
{
    for (size_t i = 0; i < b->n; i++)
        question_free(b->qs[i]);
    free(b->qs);
    *b = (struct qbank){0};
}

static int reserve(struct qbank *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 256;
    struct quiz_question **qs;

    while (cap < b->n + more)
        cap *= 2;
    if (cap == b->cap)
        return 0;
    qs = realloc(b->qs, cap * sizeof(*qs));
    if (!qs)
        return -1;
    b->qs = qs;
    b->cap = cap;
    return 0;
}

int qbank_add(struct qbank *b, int64_t id, const char *category, const char *text, json_t *choices,
              int correct, const char *lang)
{
    struct quiz_question *q;

    if (reserve(b, 1) || !(q = calloc(1, sizeof(*q))))
        return -1;
    *q = (struct quiz_question){.id = id, .correct = correct};
    q->category = strdup(category);
    q->text = strdup(text);
    for (int i = 0; i < QUIZ_CHOICES; i++)
        q->choices[i] = strdup(json_string_value(json_array_get(choices, (size_t)i)));
    if (lang && !(q->lang = strdup(lang))) {
        question_free(q);
        return -1;
    }
    if (!q->category || !q->text || !q->choices[0] || !q->choices[1] || !q->choices[2] ||
        !q->choices[3]) {
        question_free(q);
        return -1;
    }
    b->qs[b->n++] = q;
    return 0;
}

int qbank_take(struct qbank *to, struct qbank *from)
{
    if (!from->n) {
        qbank_destroy(from);
        return 0;
    }
    if (reserve(to, from->n))
        return -1;
    memcpy(to->qs + to->n, from->qs, from->n * sizeof(*from->qs));
    to->n += from->n;
    free(from->qs);
    *from = (struct qbank){0};
    return 0;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

int qbank_draw(const struct qbank *b, int n, const struct quiz_question **out, uint64_t *rng)
{
    size_t *idx;

    if (n < 0 || (size_t)n > b->n)
        return -1;
    idx = malloc((b->n ? b->n : 1) * sizeof(*idx));
    if (!idx)
        return -1;
    for (size_t i = 0; i < b->n; i++)
        idx[i] = i;
    /* the first n steps of a Fisher-Yates shuffle: n distinct picks */
    for (int k = 0; k < n; k++) {
        size_t j = (size_t)k + (size_t)(next_random(rng) % (b->n - (size_t)k));
        size_t t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
        out[k] = b->qs[idx[k]];
    }
    free(idx);
    return 0;
}

const struct quiz_question *qbank_find(const struct qbank *b, int64_t id)
{
    /* newest first: an import appends, and a re-imported pack's ids are the newest */
    for (size_t i = b->n; i-- > 0;)
        if (b->qs[i]->id == id)
            return b->qs[i];
    return NULL;
}
