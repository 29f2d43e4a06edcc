/*
 * The operators' event log: a fixed-size ring of {time, level, text} entries that any module
 * writes to (game results not saved, chat not stored, moderation done), plus one subscriber,
 * called for each entry as it is added. It sits low in the stack so game rules and persistence
 * report to operators without depending on the console: admin.c subscribes, pushes entries to
 * consoles and serves a connecting console its history from the ring. Loop thread only.
 */
#ifndef PARLOR_OPLOG_H
#define PARLOR_OPLOG_H

#include <stdint.h>

#include "log.h"

#define OPLOG_MAX  200 /* entries kept for a console that connects */
#define OPLOG_TEXT 200 /* bytes of an entry's text, NUL included; longer text is cut */

struct oplog_entry {
    int64_t ts; /* wall clock, ms */
    enum log_level level;
    char text[OPLOG_TEXT];
};

struct oplog {
    struct oplog_entry ring[OPLOG_MAX];
    int head, count; /* head: the newest entry */
    /* Read at each entry, through the owner's field, so a test that swaps the clock after
     * oplog_init() is followed. */
    int64_t (*const *clock)(void);
    void (*subscriber)(void *arg, const struct oplog_entry *e);
    void *subscriber_arg;
};

void oplog_init(struct oplog *o, int64_t (*const *clock)(void));
/* Sets the one subscriber (NULL: none), called after each entry is added. */
void oplog_subscribe(struct oplog *o, void (*cb)(void *arg, const struct oplog_entry *e),
                     void *arg);
/* Adds an entry (overwriting the oldest when full), writes it to the server log, and tells the
 * subscriber. */
void oplog_add(struct oplog *o, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The number of entries kept, and the i-th of them, oldest first (0 <= i < oplog_count()). */
int oplog_count(const struct oplog *o);
const struct oplog_entry *oplog_at(const struct oplog *o, int i);

#endif
