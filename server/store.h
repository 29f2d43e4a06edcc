/*
 * The SQL parlor runs: every statement that reads or writes application data. Functions taking
 * a struct db_worker run on pool workers inside the job that called them; the store_load_*
 * functions run once at startup on the main thread, before the loop serves anyone.
 */
#ifndef PARLOR_STORE_H
#define PARLOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"

/* One chat message as stored. The strings belong to the caller. */
struct store_msg {
    const char *room;
    uint64_t seq;
    const char *sender;
    const char *text;
    int64_t ts;
};

/* Worker: inserts `n` messages in one transaction. 0, or -1 (rolled back, logged). */
int store_insert_messages(struct db_worker *w, const struct store_msg *msgs, size_t n);
/* Worker: up to `limit` chat events of `room` with seq < `before`, as a new array, oldest
 * first; NULL on failure (logged). */
json_t *store_history(struct db_worker *w, const char *room, uint64_t before, int limit);

/* Startup: the room's newest seq and its last `limit` chat events (oldest first). */
int store_load_room(sqlite3 *db, const char *room, int limit, uint64_t *last_seq, json_t **events,
                    char *err, size_t errlen);
/* Startup: the largest N of any room id "rN" that has stored messages, so new rooms never
 * reuse an id whose history is on disk. */
uint64_t store_load_max_room_number(sqlite3 *db);

#endif
