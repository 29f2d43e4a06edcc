/*
 * Bans and mutes in force: name bans refuse sign-in, address bans refuse WebSocket
 * connections, mutes refuse say and whisper. The rows live in SQLite (table `bans`) and are
 * loaded at startup, so they survive restarts; checks read only this in-memory copy. Names
 * compare case-insensitively. Loop thread only.
 */
#ifndef PARLOR_BANS_H
#define PARLOR_BANS_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

enum ban_kind { BAN_NAME, BAN_ADDRESS, BAN_MUTE, BAN_KINDS };

#define BAN_FOREVER INT64_MAX

struct bans {
    struct hmap by_kind[BAN_KINDS]; /* target -> until (ms since the epoch), as intptr_t */
};

void bans_init(struct bans *b);
void bans_destroy(struct bans *b);
/* "name", "address" or "mute" -> kind; -1 when unknown. */
int bans_kind_parse(const char *s);
/* Records a ban until `until_ms` (BAN_FOREVER for ever). 0 or -1 (out of memory). */
int bans_add(struct bans *b, enum ban_kind kind, const char *target, int64_t until_ms);
/* Lifts a ban; a target without one is ignored. */
void bans_remove(struct bans *b, enum ban_kind kind, const char *target);
/* The end of the ban on `target` in force at `now_ms`, or 0 when there is none (an expired
 * ban is forgotten here). */
int64_t bans_until(struct bans *b, enum ban_kind kind, const char *target, int64_t now_ms);

/* " until 2026-11-23T10:00:00Z", or "" for a ban for ever: for messages. */
void bans_describe_until(int64_t until_ms, char *buf, size_t len);

#endif
