/*
 * Hash map from byte-string keys (copied in) to pointers: open addressing, linear probing,
 * backward-shift deletion so no tombstones pile up under churn. Single-threaded.
 */
#ifndef PARLOR_HMAP_H
#define PARLOR_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
    uint64_t hash;
    char *key; /* NULL when the slot is empty */
    size_t klen;
    void *val;
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

void hmap_init(struct hmap *m);
/* Frees the map's memory (not the values). */
void hmap_destroy(struct hmap *m);
void *hmap_get(const struct hmap *m, const void *key, size_t klen);
/* Inserts or replaces. Returns 0, or -1 when out of memory. */
int hmap_put(struct hmap *m, const void *key, size_t klen, void *val);
/* Removes the key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const void *key, size_t klen);

#endif
