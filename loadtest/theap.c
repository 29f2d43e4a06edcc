/*
 * The timer heap (theap.h): sift-up on push, sift-down on pop, doubling storage. Runs on the
 * load generator's only thread.
 */
#include "theap.h"

#include <stdlib.h>

#define THEAP_FIRST_CAP 1024

int theap_push(struct theap *h, struct tev ev)
{
    size_t i;

    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : THEAP_FIRST_CAP;
        struct tev *v = realloc(h->v, cap * sizeof(*v));
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    i = h->len++;
    while (i && h->v[(i - 1) / 2].at > ev.at) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = ev;
    return 0;
}

struct tev theap_pop(struct theap *h)
{
    struct tev top = h->v[0], last = h->v[--h->len];
    size_t i = 0, n = h->len;

    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h->v[l].at < last.at)
            m = l;
        if (l + 1 < n && h->v[l + 1].at < (m == i ? last.at : h->v[m].at))
            m = l + 1;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (n)
        h->v[i] = last;
    return top;
}

void theap_clear(struct theap *h)
{
    h->len = 0;
}

void theap_free(struct theap *h)
{
    free(h->v);
    *h = (struct theap){0};
}
