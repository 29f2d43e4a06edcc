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

#include "log.h"

struct server;
struct session;
struct stats_sample;

/* Sets up the console's state in srv->admin and subscribes to the server's oplog, to push its
 * entries to consoles. 0, or -1 when out of memory. */
int admin_init(struct server *srv);
/* Frees srv->admin; safe when admin_init() was not called. */
void admin_destroy(struct server *srv);
/* True when `given` is the admin token; constant time in both contents and length. */
bool admin_token_matches(const struct server *srv, const char *given, size_t len);
/* One message from a console connection. */
void admin_handle(struct server *srv, struct session *s, const char *buf, size_t len);
/* Pushes a sample to every authenticated console. */
void admin_push_stats(struct server *srv, const struct stats_sample *sample);

#endif
