/*
 * Bans and mutes in force: name bans refuse sign-in, address bans refuse WebSocket
 * connections, mutes refuse say and whisper. The rows live in SQLite (table `bans`) and are
 * loaded at startup, so they survive restarts; checks read only this in-memory copy. Names
 * compare case-insensitively. An address ban is a rule: one IPv4 or IPv6 address, or a CIDR
 * prefix of either; rules are kept in a canonical spelling (bans_address_canon), and an IPv4
 * peer seen through an IPv6 socket (::ffff:a.b.c.d) is matched as the IPv4 address it is.
 * Loop thread only.
 */
#ifndef PARLOR_BANS_H
#define PARLOR_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

enum ban_kind { BAN_NAME, BAN_ADDRESS, BAN_MUTE, BAN_KINDS };

#define BAN_FOREVER INT64_MAX

/* The longest canonical rule: an IPv6 address (45), "/127" and a NUL, with room to spare. */
#define BANS_ADDRESS_MAX 52

struct ban_net; /* an address prefix rule (bans.c) */

struct bans {
    struct hmap by_kind[BAN_KINDS]; /* target -> until (ms since the epoch), as intptr_t; for
                                       addresses, the single-address rules */
    struct ban_net *nets;           /* address rules with a prefix shorter than the address */
    int nnets, capnets;
    struct hmap reasons; /* "kind:target" (lower case) -> strdup'ed reason an operator gave */
};

void bans_init(struct bans *b);
void bans_destroy(struct bans *b);
/* "name", "address" or "mute" -> kind; -1 when unknown. */
int bans_kind_parse(const char *s);
/* Parses an address rule: an IPv4 or IPv6 address, optionally followed by "/prefix" (0-32 or
 * 0-128, decimal without leading zeros). Writes its canonical spelling into `out`: IPv4 in
 * dotted decimal, IPv6 as inet_ntop writes it, the prefix only when shorter than the address,
 * an IPv4-mapped IPv6 rule (::ffff:a.b.c.d, prefix 96 or longer) as the IPv4 rule. Returns 0,
 * or -1 with a reason in `why` (leading zeros, bits set past the prefix, anything else). */
int bans_address_canon(const char *text, char out[BANS_ADDRESS_MAX], char *why, size_t whylen);
/* Records a ban until `until_ms` (BAN_FOREVER for ever), replacing the same rule's. 0, -1 (out
 * of memory) or -2 (an address target that bans_address_canon refuses). */
int bans_add(struct bans *b, enum ban_kind kind, const char *target, int64_t until_ms);
/* Lifts the ban on exactly this target (for addresses: this rule, in any spelling of it; a
 * prefix rule covering the address is not touched). True if one was in force. */
bool bans_remove(struct bans *b, enum ban_kind kind, const char *target);
/* The end of the ban on `target` in force at `now_ms`, or 0 when there is none (an expired
 * ban is forgotten here). For an address (a peer, as lws reports it), the latest end among
 * the rules that match it. */
int64_t bans_until(struct bans *b, enum ban_kind kind, const char *target, int64_t now_ms);

/* Remembers (or, with "" or NULL, forgets) why `target` is banned or muted. Reasons live in
 * memory only: after a restart the player learns until when, not why. */
void bans_set_reason(struct bans *b, int kind, const char *target, const char *reason);
/* The reason given for the ban of `kind` on `target`, or NULL. */
const char *bans_reason(struct bans *b, int kind, const char *target);

/* " until 2026-11-23T10:00:00Z", or "" for a ban for ever: for messages. */
void bans_describe_until(int64_t until_ms, char *buf, size_t len);

#endif
