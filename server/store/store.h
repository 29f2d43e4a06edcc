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

/* A user's row, as login needs it. */
struct store_user {
    int64_t id;
    char name[65];
    uint8_t hash[64], salt[64];
    size_t hashlen, saltlen;
    char params[64];
    int64_t banned_until; /* 0 when not banned */
};

/* Worker: creates an account. 0 with *id set, -EEXIST when the name is taken (in any case),
 * -1 on failure (logged). */
int store_create_user(struct db_worker *w, const char *name, const uint8_t *hash, size_t hashlen,
                      const uint8_t *salt, size_t saltlen, const char *params, int64_t created,
                      int64_t *id);
/* Worker: the account named `name` (case-insensitively). 1 found, 0 none, -1 failure. */
int store_find_user(struct db_worker *w, const char *name, struct store_user *u);

/* Startup: calls `fn` for every account. 0 or -1 with err. */
int store_load_users(sqlite3 *db, int (*fn)(void *arg, int64_t id, const char *name), void *arg,
                     char *err, size_t errlen);
/* One player's result in a finished game. */
struct store_result {
    const char *name;
    int64_t user_id; /* 0 for a guest */
    int score, rank;
};

/* Worker: stores a finished game and its results in one transaction, and adds registered
 * players' points, games and wins. 0 or -1 (rolled back, logged). */
int store_save_game(struct db_worker *w, const char *room, int64_t started, int64_t ended,
                    int rounds, const struct store_result *results, int n);
/* Worker: the top `limit` registered players by points, as [{name, points, games, wins}];
 * NULL on failure (logged). */
json_t *store_leaderboard(struct db_worker *w, int limit);
/* Account `user_id`'s {rank, points, games, wins}: rank is its 1-based place in the
 * leaderboard's order, null before its first game. json null when the account is gone; NULL on
 * a database error. */
json_t *store_rank(struct db_worker *w, int64_t user_id);

/* Worker: moderation writes (rare: prepared each time). 0 or -1 (logged). `until` 0 = for
 * ever. */
int store_ban_add(struct db_worker *w, const char *kind, const char *target, int64_t until,
                  const char *reason, int64_t created);
int store_ban_remove(struct db_worker *w, const char *kind, const char *target);
/* Worker: deletes one stored message. The rows deleted (0 or 1), or -1 (logged). */
int store_delete_message(struct db_worker *w, const char *room, int64_t seq);

/* Startup: calls `fn` for every ban still in force at `now_ms` (kind "name", "address" or
 * "mute"; until = 0 for ever). 0 or -1 with err. */
int store_load_bans(sqlite3 *db, int64_t now_ms,
                    int (*fn)(void *arg, const char *kind, const char *target, int64_t until),
                    void *arg, char *err, size_t errlen);
/* Startup: the token MAC key, created at random on first run. 0 or -1 with err. */
int store_load_token_key(sqlite3 *db, uint8_t *key, size_t keylen, char *err, size_t errlen);

/* Startup: the room's newest seq and its last `limit` chat events (oldest first). */
int store_load_room(sqlite3 *db, const char *room, int limit, uint64_t *last_seq, json_t **events,
                    char *err, size_t errlen);
/* Startup: the largest N of any room id "rN" that has stored messages, so new rooms never
 * reuse an id whose history is on disk. */
uint64_t store_load_max_room_number(sqlite3 *db);

#endif
