/*
 * The cluster order check: every member of a room must see the room's chat in one order. For
 * each (room, seq) it remembers a fingerprint of the first (sender, text) seen with that seq;
 * each delivery is then judged against the member's previous seq in the room (strictly
 * increasing, no gap after the first one it saw) and against that fingerprint (the same seq
 * carries the same message for everyone). Pure bookkeeping, no I/O; runs on the load
 * generator's only thread.
 */
#ifndef PARLOR_LT_ORDER_H
#define PARLOR_LT_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* One member's place in one room: the caller keeps one per (client, room) it checks. */
struct order_member {
    int64_t last_seq; /* 0: has seen nothing in the room yet */
};

/* What one delivery was found to be. */
enum order_verdict {
    ORDER_OK = 0,
    ORDER_VIOLATION, /* seq not above the member's previous one (a repeat or going back) */
    ORDER_GAP,       /* seq skipped some after the member's previous one */
    ORDER_MISMATCH,  /* another member saw a different message with this seq */
};

struct order_entry {
    uint64_t key;         /* room << 40 | seq, 0 = empty slot */
    uint64_t fingerprint; /* of the first (sender, text) seen with it */
};

struct order_check {
    struct order_entry *slots;
    size_t cap, used; /* cap is a power of two, or 0 before the first message */
    uint64_t checked, violations, gaps, mismatches;
};

/* A fingerprint of one message's sender and text. */
uint64_t order_fingerprint(const char *from, size_t from_len, const char *text, size_t text_len);
/* Judges one delivery of `seq` (>= 1, < 2^40) in room `room` (< 2^23) to member `m`, counts
 * it, and moves the member on. Returns the verdict (a mismatch after a gap counts as both and
 * returns ORDER_MISMATCH), or -1 when out of memory (not counted). A seq the member saw twice
 * is a violation, never a mismatch; a violation leaves the member's place where it was. */
int order_see(struct order_check *oc, struct order_member *m, uint32_t room, int64_t seq,
              uint64_t fingerprint);
/* Frees the table; the struct may be reused zeroed. */
void order_free(struct order_check *oc);

#endif
