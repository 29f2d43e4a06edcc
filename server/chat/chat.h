/*
 * The chat service: answers parlor.v1 requests (sign-in, rooms, chat, whispers, ping) and
 * keeps rooms and sessions consistent when connections come and go. Everything from a
 * message's bytes to the replies it causes, with no socket in sight: the transport hands in
 * frames and carries out what the sessions queue. Loop thread only.
 */
#ifndef PARLOR_CHAT_H
#define PARLOR_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct server;
struct session;
struct room;
struct proto_req;

/* A connection was accepted: greet it. */
void chat_session_opened(struct server *srv, struct session *s);
/* One complete text message from the client. */
void chat_handle(struct server *srv, struct session *s, const char *buf, size_t len);
/* The connection is gone: leave every room (others are told) and release the name. */
void chat_session_closed(struct server *srv, struct session *s);
/* The connection of a signed-in session dropped without a close frame: keep its identity,
 * rooms and seat for --rejoin-seconds (true), or leave now (false: the caller then closes
 * it as usual with chat_session_closed). */
bool chat_session_dropped(struct server *srv, struct session *s);
/* `s`, a new connection, resumes `old`, a detached session: takes over its name, rooms and
 * seats, replies ok {name, token, rooms}, replays the chat it missed after `seen` and sends
 * each running game's snapshot. `old` is freed. */
void chat_rejoin(struct server *srv, struct session *s, struct session *old,
                 const struct proto_req *req, const char *token);
/* The accounts' `signed_in` callback (accounts_cfg): chat_rejoin() with `arg` the server. */
void chat_signed_in(void *arg, struct session *s, struct session *kept, const struct proto_req *req,
                    const char *token);
/* The chat log's completions (chatlog_init()): reply ok {seq} to the sender of a saved
 * message, ok {messages} to a history request (and let the session read again), or an
 * `internal` error; nothing when the session is gone. */
void chat_message_saved(struct server *srv, uint64_t session_id, struct proto_re re, uint64_t seq,
                        const char *error);
void chat_history_read(struct server *srv, uint64_t session_id, struct proto_re re,
                       json_t *messages, const char *error);
/* Shutdown: ends every detached session (their timers live in the loop). */
void chat_end_detached(struct server *srv);
/* Starts a drain: tells every connection `shutdown {seconds}` and refuses new sign-ins and
 * new games from now on. */
void chat_begin_drain(struct server *srv, int seconds);
/* server.session_moved: lets a detached session go silently (resumed on another node). */
void chat_session_moved(struct server *srv, struct session *s);
/* accounts_cfg.resume_elsewhere (`arg`: the server): a resume taken over from another node. */
void chat_resume_elsewhere(void *arg, struct session *s, const struct proto_req *req,
                           int64_t user_id, const char *name);
/* server.drop_room: removes a room nobody here is in (a cluster's room empty everywhere). */
void chat_drop_room(struct server *srv, struct room *r);
/* The protocol's object for a room, with a quiz room's game fields. */
json_t *chat_room_json(const struct room *r);
/* An operator closes a room: members get room_closed and are out; the room is removed. */
void chat_close_room(struct server *srv, struct room *r);
/* Stops every game and cancels the rooms' timers, games' and presence's (shutdown, before
 * the loop goes away). */
void chat_stop_timers(struct server *srv);
/* Closes every session with 1001; the transport finishes the job. */
void chat_close_all(struct server *srv, int code, const char *reason);

#endif
