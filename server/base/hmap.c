/* Open-addressing hash map (see hmap.h). Any thread; one thread per map. */
#include "hmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: keys are short names and ids, where it is fast and spreads well enough. */
static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

void hmap_init(struct hmap *m)
{
    *m = (struct hmap){0};
}

void hmap_destroy(struct hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    *m = (struct hmap){0};
}

static bool slot_matches(const struct hmap_slot *s, uint64_t h, const void *key, size_t klen)
{
    return s->hash == h && s->klen == klen && !memcmp(s->key, key, klen);
}

static struct hmap_slot *find(const struct hmap *m, uint64_t h, const void *key, size_t klen)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (slot_matches(s, h, key, klen))
            return s;
    }
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
    struct hmap_slot *s = find(m, hash_bytes(key, klen), key, klen);

    return s ? s->val : NULL;
}

static void place(struct hmap *m, struct hmap_slot slot)
{
    size_t i = slot.hash & (m->cap - 1);

    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = slot;
}

static int resize(struct hmap *m, size_t cap)
{
    struct hmap_slot *old = m->slots;
    size_t old_cap = m->cap;

    m->slots = calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            place(m, old[i]);
    free(old);
    return 0;
}

int hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
    uint64_t h = hash_bytes(key, klen);
    struct hmap_slot *s = find(m, h, key, klen);
    char *copy;

    if (s) {
        s->val = val;
        return 0;
    }
    /* keep the load at most 1/2: probes stay short */
    if ((m->count + 1) * 2 > m->cap && resize(m, m->cap ? m->cap * 2 : 16))
        return -1;
    copy = malloc(klen ? klen : 1);
    if (!copy)
        return -1;
    memcpy(copy, key, klen);
    place(m, (struct hmap_slot){.hash = h, .key = copy, .klen = klen, .val = val});
    m->count++;
    return 0;
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
    struct hmap_slot *s = find(m, hash_bytes(key, klen), key, klen);
    size_t hole, i, mask = m->cap - 1;
    void *val;

    if (!s)
        return NULL;
    val = s->val;
    free(s->key);
    s->key = NULL;
    m->count--;

    /* backward shift: move later entries of the probe run into the hole when that brings
     * them no further from their home slot */
    hole = (size_t)(s - m->slots);
    for (i = (hole + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
        size_t home = m->slots[i].hash & mask;
        bool movable = (i > hole) ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
            m->slots[hole] = m->slots[i];
            m->slots[i].key = NULL;
            hole = i;
        }
    }
    return val;
}
