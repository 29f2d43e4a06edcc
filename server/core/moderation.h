/*
 * What a restricted player is told (PROTOCOL.md "Moderation"): the details of a ban on a
 * refused sign-in, and `muted` events. Shared by sign-in (accounts), the chat service and the
 * console, so none of them reaches into another for it. Loop thread only.
 */
#ifndef PARLOR_MODERATION_H
#define PARLOR_MODERATION_H

#include <stdint.h>

#include <jansson.h>

struct server;
struct session;

/* {"type": type, "until": ms|null, "reason"?: …} for a ban or mute of `target` of `kind`. */
json_t *moderation_restriction_json(struct server *srv, const char *type, int kind,
                                    const char *target, int64_t until);
/* Adds `until` (ms, or null for ever) and, when an operator gave one, `reason` to `err`, the
 * not_allowed error refusing `target` under a ban of `kind` ending at `until`. */
void moderation_ban_details(struct server *srv, json_t *err, int kind, const char *target,
                            int64_t until);
/* Sends `muted` to `s` when its name is muted: called right after a sign-in's ok. */
void moderation_tell_muted(struct server *srv, struct session *s);

#endif
