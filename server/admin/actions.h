/*
 * What an operator's action does to this node: its in-memory state (bans, rooms, history) and
 * its own players, whether the console that asked is connected here or to another node of a
 * cluster. The console (admin.c) validates a request, stores what must survive in the database
 * once, calls one of these, and then hands the action to srv->moderation_publish; a node that
 * hears of an action from another node calls actions_apply(), which does the same effects and
 * neither stores nor publishes again. Loop thread only.
 */
#ifndef PARLOR_ACTIONS_H
#define PARLOR_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bans.h"

struct server;
struct session;

/* Ends a player's session now, whether connected or away (kept for a rejoin). */
void actions_end_player(struct server *srv, struct session *u, const char *reason);
/* Records a ban (or mute) of `kind` on `target` until `until` (BAN_FOREVER), with `reason`
 * ("" for none); a mute is told to its player, a ban closes the players it matches after a
 * `banned` notice. 0, or -1 out of memory. */
int actions_ban(struct server *srv, enum ban_kind kind, const char *target, int64_t until,
                const char *reason);
/* Lifts exactly this ban (or mute, whose player gets `unmuted`). True if one was in force. */
bool actions_unban(struct server *srv, enum ban_kind kind, const char *target);
/* Closes the player called `name` here with "kicked[: reason]". False: nobody by that name. */
bool actions_kick(struct server *srv, const char *name, const char *reason);
/* `announce {text}` to every player here; how many got it. */
int actions_announce(struct server *srv, const char *text);
/* Closes room `id` here (members get room_closed). False: no such room, or the lobby. */
bool actions_close_room(struct server *srv, const char *id);
/* Message `seq` of room `id` is gone: the room's members here get chat_deleted. */
void actions_tell_deleted(struct server *srv, const char *id, uint64_t seq);

/* The JSON of an action, as published between nodes (ADMIN.md "In a cluster"). */
json_t *actions_ban_json(enum ban_kind kind, const char *target, int64_t until, const char *reason);
/* Hands `action` (reference taken) to the cluster, if there is one. */
void actions_publish(struct server *srv, json_t *action);
/* Applies an action another node published: the effects above, nothing stored, nothing
 * published. 0, or -1 for an action it does not understand (logged). */
int actions_apply(struct server *srv, json_t *action);

#endif
