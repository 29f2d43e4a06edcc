/* What a restricted player is told (see moderation.h). Loop thread only. */
#include "moderation.h"

#include "bans.h"
#include "server.h"
#include "session.h"

json_t *moderation_restriction_json(struct server *srv, const char *type, int kind,
                                    const char *target, int64_t until)
{
    json_t *o = json_pack("{s:s}", "type", type);
    const char *reason = bans_reason(&srv->bans, kind, target);

    json_object_set_new(o, "until", until == BAN_FOREVER ? json_null() : json_integer(until));
    if (reason)
        json_object_set_new(o, "reason", json_string(reason));
    return o;
}

void moderation_ban_details(struct server *srv, json_t *err, int kind, const char *target,
                            int64_t until)
{
    json_t *o = moderation_restriction_json(srv, "error", kind, target, until);

    json_object_del(o, "type");
    json_object_update(err, o);
    json_decref(o);
}

void moderation_tell_muted(struct server *srv, struct session *s)
{
    int64_t until = bans_until(&srv->bans, BAN_MUTE, s->name, srv->wall_ms());

    if (until)
        session_send_json(s, moderation_restriction_json(srv, "muted", BAN_MUTE, s->name, until));
}
