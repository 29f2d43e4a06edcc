/*
 * The operator's console protocol, parlor-admin.v1 (protocol/ADMIN.md): authentication with
 * the admin token, figures pushed every second, the oplog's entries (oplog.h) pushed as they
 * come and served as history, and moderation: announce, kick,
 * mute, ban, unban, close a room, delete a message, backups and drain. Admin connections are
 * sessions flagged `admin`: they never join rooms or receive player traffic. Loop thread
 * only, except the moderation jobs' run(), which runs on a worker.
 */
#ifndef PARLOR_ADMIN_H
#define PARLOR_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hmap.h"
#include "log.h"

struct server;
struct session;
struct stats_sample;

struct admin {
    struct hmap failures; /* address -> struct admin_failure *, for slowing down guessers */
    struct hmap reasons;  /* "kind:target" (lower case) -> strdup'ed reason of a ban or mute */
};

/* Also subscribes to the server's oplog, to push its entries to consoles. */
void admin_init(struct server *srv);
void admin_destroy(struct admin *a);
/* True when `given` is the admin token; constant time in both contents and length. */
bool admin_token_matches(const struct server *srv, const char *given, size_t len);
/* One message from a console connection. */
void admin_handle(struct server *srv, struct session *s, const char *buf, size_t len);
/* Pushes a sample to every authenticated console. */
void admin_push_stats(struct server *srv, const struct stats_sample *sample);

/* Adds `until` (ms, or null for ever) and, when an operator gave one, `reason` to `err`, the
 * not_allowed error refusing `target` under a ban of `kind` ending at `until`. */
void admin_ban_details(struct server *srv, json_t *err, int kind, const char *target,
                       int64_t until);
/* Sends `muted` to `s` when its name is muted: called right after a sign-in's ok. */
void admin_tell_muted(struct server *srv, struct session *s);

#endif
