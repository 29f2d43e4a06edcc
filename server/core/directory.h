/*
 * The directory: what must be unique or shared across a whole club rather than one process.
 * Room ids, each room's chat sequence, the names in use (with their confusable skeletons) and
 * finding the session that holds a name (whisper, moderation). Chat, accounts and the console
 * ask only this; today's one implementation (directory_local_ops) answers from this
 * process's own maps, and a cluster puts a shared one (Redis) behind the same calls. A
 * session's name is released when the session is freed (session_free). Loop thread only.
 */
#ifndef PARLOR_DIRECTORY_H
#define PARLOR_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"
#include "room.h"

struct server;
struct session;

/* confirm_name's answer: 0, the name is this session's across the club; -1, another node
 * holds it or one confusable with it; -2, the club cannot be asked now. */
typedef void directory_confirmed_fn(struct server *srv, uint64_t session_id, struct proto_re re,
                                    int result);

/* claim_detached's answer: NULL when no node keeps a session for that token, or an object
 * {"name", "user_id", "rooms": [ids], "replay": {room id: {"last": seq, "events": [JSON text]}}}
 * (borrowed for the call) with the missed chat of each room named in `seen`. */
typedef void directory_claimed_fn(struct server *srv, uint64_t session_id, void *arg,
                                  json_t *detached);

struct directory_ops {
    /* A new room id, never handed out before: "r" and a number. 0, or -1. */
    int (*new_room_id)(struct server *srv, char out[ROOM_ID_LEN]);
    /* The seq of the next chat message in `r`. */
    uint64_t (*next_seq)(struct server *srv, struct room *r);
    /* Gives `s` the name: 0, or -1 when another session holds it (or out of memory). */
    int (*claim_name)(struct server *srv, struct session *s, const char *name);
    /* A resume: `s` takes over the name of `old`, which now finds `s`. */
    void (*take_name)(struct server *srv, struct session *s, struct session *old);
    /* The signed-in session holding `name` (compared by names_key()), or NULL. */
    struct session *(*find_name)(struct server *srv, const char *name);
    /* True when `name`, or a name confusable with it, is held by a signed-in session. */
    bool (*name_confusable)(struct server *srv, const char *name);
    /* A name claimed here (claim_name) must also be free on the other nodes: asks them and
     * calls `done` (NULL: no answer wanted), at once or later. `forced`: an account that proved
     * the name is its own, which takes it whoever held it. Optional: alone, the claim here is
     * the whole answer. */
    void (*confirm_name)(struct server *srv, uint64_t session_id, const char *name, bool forced,
                         directory_confirmed_fn *done, struct proto_re re);
    /* A dropped session kept for --rejoin-seconds: other nodes may take it over (resume).
     * Optional, as the next two. */
    void (*detach)(struct server *srv, struct session *s);
    /* It was resumed here, or its time is up: nobody may take it over. */
    void (*forget_detached)(struct server *srv, struct session *s);
    /* A resume whose session is not here: takes over the session another node keeps for the
     * token's `subject` (see accounts), if any, telling that node to let it go. */
    void (*claim_detached)(struct server *srv, uint64_t session_id, int64_t subject, json_t *seen,
                           int per_room, directory_claimed_fn *done, void *arg);
};

extern const struct directory_ops directory_local_ops;

/* The calls chat, accounts and the console make: each goes to srv->directory. */
int directory_new_room_id(struct server *srv, char out[ROOM_ID_LEN]);
uint64_t directory_next_seq(struct server *srv, struct room *r);
int directory_claim_name(struct server *srv, struct session *s, const char *name);
void directory_take_name(struct server *srv, struct session *s, struct session *old);
struct session *directory_find_name(struct server *srv, const char *name);
bool directory_name_confusable(struct server *srv, const char *name);
void directory_detach(struct server *srv, struct session *s);
void directory_forget_detached(struct server *srv, struct session *s);
/* False when no other node can hold a detached session (this process alone). */
bool directory_can_claim_detached(struct server *srv);
void directory_claim_detached(struct server *srv, uint64_t session_id, int64_t subject,
                              json_t *seen, int per_room, directory_claimed_fn *done, void *arg);
void directory_confirm_name(struct server *srv, uint64_t session_id, const char *name, bool forced,
                            directory_confirmed_fn *done, struct proto_re re);

#endif
