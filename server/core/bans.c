/* Bans and mutes in force (see bans.h). Loop thread only. */
#include "bans.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "names.h"

#define BAN_TARGET_MAX NAMES_KEY_MAX /* bytes of a key: a name's, or an address */

/* An address rule with a prefix shorter than its address. */
struct ban_net {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; 4 bytes used for IPv4 */
    int prefix;
    int64_t until;
    char text[BANS_ADDRESS_MAX]; /* canonical, as stored */
};

/* An address or a prefix, parsed. */
struct ban_rule {
    int family;
    unsigned char addr[16];
    int prefix;
};

static const char *const kind_names[BAN_KINDS] = {"name", "address", "mute"};

void bans_init(struct bans *b)
{
    for (int k = 0; k < BAN_KINDS; k++)
        hmap_init(&b->by_kind[k]);
    hmap_init(&b->reasons);
    b->nets = NULL;
    b->nnets = b->capnets = 0;
}

void bans_destroy(struct bans *b)
{
    for (int k = 0; k < BAN_KINDS; k++)
        hmap_destroy(&b->by_kind[k]);
    for (size_t i = 0; i < b->reasons.cap; i++)
        if (b->reasons.slots[i].key)
            free(b->reasons.slots[i].val);
    hmap_destroy(&b->reasons);
    free(b->nets);
    b->nets = NULL;
    b->nnets = b->capnets = 0;
}

int bans_kind_parse(const char *s)
{
    for (int k = 0; k < BAN_KINDS; k++)
        if (!strcmp(s, kind_names[k]))
            return k;
    return -1;
}

static int addr_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

/* True when the first `prefix` bits of `a` and `b` are equal. */
static bool same_prefix(const unsigned char *a, const unsigned char *b, int prefix)
{
    int whole = prefix / 8, rest = prefix % 8;

    if (memcmp(a, b, (size_t)whole))
        return false;
    return !rest || ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Parses "address" or "address/prefix"; see bans_address_canon. */
static int parse_rule(const char *text, struct ban_rule *r, char *why, size_t whylen)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    char host[INET6_ADDRSTRLEN];

    memset(r, 0, sizeof(*r));
    if (!hlen || hlen >= sizeof(host))
        goto not_an_address;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    /* inet_pton takes dotted decimal only: no leading zeros (octal to some parsers), no
     * shortened forms, no blanks */
    if (inet_pton(AF_INET, host, r->addr) == 1)
        r->family = AF_INET;
    else if (inet_pton(AF_INET6, host, r->addr) == 1)
        r->family = AF_INET6;
    else
        goto not_an_address;
    r->prefix = addr_bits(r->family);
    if (slash) {
        const char *d = slash + 1;
        size_t n = strlen(d);
        int v = 0;

        for (size_t i = 0; i < n && i < 4; i++)
            v = isdigit((unsigned char)d[i]) ? v * 10 + (d[i] - '0') : -1000;
        if (!n || n > 3 || (d[0] == '0' && n > 1) || v < 0 || v > addr_bits(r->family)) {
            snprintf(why, whylen, "the prefix after '/' must be a number from 0 to %d",
                     addr_bits(r->family));
            return -1;
        }
        r->prefix = v;
    }
    /* an IPv4 peer on the dual-stack socket reads ::ffff:a.b.c.d: the rule is the IPv4 one */
    if (r->family == AF_INET6 && r->prefix >= 96 && !memcmp(r->addr, mapped, sizeof(mapped))) {
        memmove(r->addr, r->addr + 12, 4);
        memset(r->addr + 4, 0, 12);
        r->family = AF_INET;
        r->prefix -= 96;
    }
    for (int bit = r->prefix; bit < addr_bits(r->family); bit++) {
        if (r->addr[bit / 8] & (0x80 >> (bit % 8))) {
            struct ban_rule net = *r;
            char buf[INET6_ADDRSTRLEN];
            memset(net.addr, 0, sizeof(net.addr));
            for (int k = 0; k < r->prefix; k++)
                net.addr[k / 8] |= (unsigned char)(r->addr[k / 8] & (0x80 >> (k % 8)));
            inet_ntop(net.family, net.addr, buf, sizeof(buf));
            snprintf(why, whylen, "'%s' has bits set past its prefix: the network is %s/%d", text,
                     buf, r->prefix);
            return -1;
        }
    }
    return 0;

not_an_address:
    snprintf(why, whylen,
             "'%.*s' is not an IPv4 address (dotted decimal, no leading zeros) or an IPv6 "
             "address, optionally with a /prefix",
             (int)(strlen(text) > 60 ? 60 : strlen(text)), text);
    return -1;
}

static void rule_text(const struct ban_rule *r, char out[BANS_ADDRESS_MAX])
{
    char buf[INET6_ADDRSTRLEN];

    inet_ntop(r->family, r->addr, buf, sizeof(buf));
    if (r->prefix < addr_bits(r->family))
        snprintf(out, BANS_ADDRESS_MAX, "%s/%u", buf, (unsigned char)r->prefix); /* 0-128 */
    else
        snprintf(out, BANS_ADDRESS_MAX, "%s", buf);
}

int bans_address_canon(const char *text, char out[BANS_ADDRESS_MAX], char *why, size_t whylen)
{
    struct ban_rule r;

    if (parse_rule(text, &r, why, whylen))
        return -1;
    rule_text(&r, out);
    return 0;
}

/* Names compare by names_key() (case-folded NFC, as sign-in compares them). */
static void key_of(const char *target, char key[BAN_TARGET_MAX])
{
    size_t i;

    if (!names_key(target, key))
        return;
    /* not a valid name (a ban stored before names were checked): fold ASCII as before */
    for (i = 0; target[i] && i < BAN_TARGET_MAX - 1; i++)
        key[i] = (char)tolower((unsigned char)target[i]);
    key[i] = '\0';
}

static int net_find(const struct bans *b, const char *text)
{
    for (int i = 0; i < b->nnets; i++)
        if (!strcmp(b->nets[i].text, text))
            return i;
    return -1;
}

static int add_address(struct bans *b, const char *target, int64_t until_ms)
{
    char why[160], text[BANS_ADDRESS_MAX];
    struct ban_rule r;
    int i;

    if (parse_rule(target, &r, why, sizeof(why)))
        return -2;
    rule_text(&r, text);
    if (r.prefix == addr_bits(r.family))
        return hmap_put(&b->by_kind[BAN_ADDRESS], text, strlen(text), (void *)(intptr_t)until_ms);
    i = net_find(b, text);
    if (i < 0) {
        if (b->nnets == b->capnets) {
            int cap = b->capnets ? b->capnets * 2 : 8;
            struct ban_net *n = realloc(b->nets, (size_t)cap * sizeof(*n));
            if (!n)
                return -1;
            b->nets = n;
            b->capnets = cap;
        }
        i = b->nnets++;
        b->nets[i] = (struct ban_net){.family = r.family, .prefix = r.prefix};
        memcpy(b->nets[i].addr, r.addr, sizeof(r.addr));
        snprintf(b->nets[i].text, sizeof(b->nets[i].text), "%s", text);
    }
    b->nets[i].until = until_ms;
    return 0;
}

int bans_add(struct bans *b, enum ban_kind kind, const char *target, int64_t until_ms)
{
    char key[BAN_TARGET_MAX];

    if (kind == BAN_ADDRESS)
        return add_address(b, target, until_ms);
    key_of(target, key);
    return hmap_put(&b->by_kind[kind], key, strlen(key), (void *)(intptr_t)until_ms);
}

static void net_drop(struct bans *b, int i)
{
    b->nets[i] = b->nets[--b->nnets];
}

bool bans_remove(struct bans *b, enum ban_kind kind, const char *target)
{
    char key[BAN_TARGET_MAX], why[160];
    int i;

    if (kind != BAN_ADDRESS) {
        key_of(target, key);
        return hmap_del(&b->by_kind[kind], key, strlen(key)) != NULL;
    }
    if (bans_address_canon(target, key, why, sizeof(why)))
        return false;
    if (hmap_del(&b->by_kind[BAN_ADDRESS], key, strlen(key)))
        return true;
    i = net_find(b, key);
    if (i < 0)
        return false;
    net_drop(b, i);
    return true;
}

/* The end of the single-address ban on `key` in force at `now_ms`, or 0. */
static int64_t until_of(struct hmap *m, const char *key, int64_t now_ms)
{
    int64_t until = (int64_t)(intptr_t)hmap_get(m, key, strlen(key));

    if (until && until <= now_ms) {
        hmap_del(m, key, strlen(key));
        return 0;
    }
    return until;
}

static int64_t address_until(struct bans *b, const char *peer, int64_t now_ms)
{
    char why[160], text[BANS_ADDRESS_MAX];
    struct ban_rule r;
    int64_t until;

    if (strchr(peer, '/') || parse_rule(peer, &r, why, sizeof(why)))
        return 0; /* not an address: no rule can match it */
    rule_text(&r, text);
    until = until_of(&b->by_kind[BAN_ADDRESS], text, now_ms);
    for (int i = 0; i < b->nnets; i++) {
        struct ban_net *n = &b->nets[i];
        if (n->until <= now_ms) {
            net_drop(b, i--);
            continue;
        }
        if (n->family == r.family && same_prefix(n->addr, r.addr, n->prefix) && n->until > until)
            until = n->until;
    }
    return until;
}

int64_t bans_until(struct bans *b, enum ban_kind kind, const char *target, int64_t now_ms)
{
    char key[BAN_TARGET_MAX];

    if (kind == BAN_ADDRESS)
        return address_until(b, target, now_ms);
    key_of(target, key);
    return until_of(&b->by_kind[kind], key, now_ms);
}

void bans_describe_until(int64_t until_ms, char *buf, size_t len)
{
    time_t t = (time_t)(until_ms / 1000);
    struct tm tm;

    if (until_ms == BAN_FOREVER || !gmtime_r(&t, &tm)) {
        snprintf(buf, len, "%s", "");
        return;
    }
    strftime(buf, len, " until %Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The key of a ban's reason: kind and target, folded as names are compared here. */
static size_t reason_key(int kind, const char *target, char *key, size_t len)
{
    size_t n = (size_t)snprintf(key, len, "%d:%s", kind, target);

    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        key[i] = (char)tolower((unsigned char)key[i]);
    return n;
}

const char *bans_reason(struct bans *b, int kind, const char *target)
{
    char key[96];
    size_t n = reason_key(kind, target, key, sizeof(key));

    return hmap_get(&b->reasons, key, n);
}

void bans_set_reason(struct bans *b, int kind, const char *target, const char *reason)
{
    char key[96];
    size_t n = reason_key(kind, target, key, sizeof(key));
    char *old = hmap_get(&b->reasons, key, n), *copy;

    if (old) {
        hmap_del(&b->reasons, key, n);
        free(old);
    }
    if (!reason || !*reason || !(copy = strdup(reason)))
        return;
    if (hmap_put(&b->reasons, key, n, copy))
        free(copy);
}
