/* The operators' event log ring (see oplog.h). Loop thread only. */
#include "oplog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void oplog_init(struct oplog *o, int64_t (*const *clock)(void))
{
    memset(o, 0, sizeof(*o));
    o->clock = clock;
}

void oplog_subscribe(struct oplog *o, void (*cb)(void *arg, const struct oplog_entry *e), void *arg)
{
    o->subscriber = cb;
    o->subscriber_arg = arg;
}

void oplog_add(struct oplog *o, enum log_level level, const char *fmt, ...)
{
    struct oplog_entry *e;
    va_list ap;

    o->head = o->count ? (o->head + 1) % OPLOG_MAX : 0;
    if (o->count < OPLOG_MAX)
        o->count++;
    e = &o->ring[o->head];
    e->ts = (*o->clock)();
    e->level = level;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    log_msg(level, "admin: %s", e->text);
    if (o->subscriber)
        o->subscriber(o->subscriber_arg, e);
}

int oplog_count(const struct oplog *o)
{
    return o->count;
}

const struct oplog_entry *oplog_at(const struct oplog *o, int i)
{
    return &o->ring[(o->head - (o->count - 1 - i) + OPLOG_MAX) % OPLOG_MAX];
}
