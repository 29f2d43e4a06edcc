/*
 * The cluster order check (order.h): an open-addressing table from (room, seq) to the
 * fingerprint of the message first seen with it, and the per-member rules. Runs on the load
 * generator's only thread.
 */
#include "order.h"

#include <stdlib.h>

#define ORDER_SEQ_BITS 40
#define ORDER_MIN_CAP  1024

uint64_t order_fingerprint(const char *from, size_t from_len, const char *text, size_t text_len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */

    for (size_t i = 0; i < from_len; i++)
        h = (h ^ (unsigned char)from[i]) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL; /* no name/text split can collide with another */
    for (size_t i = 0; i < text_len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    return h;
}

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static int grow(struct order_check *oc)
{
    size_t cap = oc->cap ? oc->cap * 2 : ORDER_MIN_CAP;
    struct order_entry *s = calloc(cap, sizeof(*s));

    if (!s)
        return -1;
    for (size_t i = 0; i < oc->cap; i++) {
        size_t j;
        if (!oc->slots[i].key)
            continue;
        for (j = slot_of(oc->slots[i].key, cap); s[j].key; j = (j + 1) & (cap - 1))
            ;
        s[j] = oc->slots[i];
    }
    free(oc->slots);
    oc->slots = s;
    oc->cap = cap;
    return 0;
}

/* The fingerprint stored for `key`, storing `fp` first if there is none. NULL: no memory. */
static const struct order_entry *lookup_or_add(struct order_check *oc, uint64_t key, uint64_t fp)
{
    size_t j;

    if (2 * (oc->used + 1) > oc->cap && grow(oc))
        return NULL;
    for (j = slot_of(key, oc->cap); oc->slots[j].key; j = (j + 1) & (oc->cap - 1))
        if (oc->slots[j].key == key)
            return &oc->slots[j];
    oc->slots[j] = (struct order_entry){.key = key, .fingerprint = fp};
    oc->used++;
    return &oc->slots[j];
}

int order_see(struct order_check *oc, struct order_member *m, uint32_t room, int64_t seq,
              uint64_t fingerprint)
{
    uint64_t key = (uint64_t)room << ORDER_SEQ_BITS | ((uint64_t)seq & ((1ULL << 40) - 1));
    const struct order_entry *e;
    enum order_verdict v = ORDER_OK;

    if (m->last_seq && seq <= m->last_seq) {
        oc->checked++;
        oc->violations++;
        return ORDER_VIOLATION;
    }
    if (!(e = lookup_or_add(oc, key, fingerprint)))
        return -1;
    oc->checked++;
    if (m->last_seq && seq != m->last_seq + 1) {
        oc->gaps++;
        v = ORDER_GAP;
    }
    if (e->fingerprint != fingerprint) {
        oc->mismatches++;
        v = ORDER_MISMATCH;
    }
    m->last_seq = seq;
    return (int)v;
}

void order_free(struct order_check *oc)
{
    free(oc->slots);
    *oc = (struct order_check){0};
}
