/* Bans and mutes in force (see bans.h). Loop thread only. */
#include "bans.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define BAN_TARGET_MAX NAMES_KEY_MAX /* bytes of a key: a name's, or an address */

static const char *const kind_names[BAN_KINDS] = {"name", "address", "mute"};

void bans_init(struct bans *b)
{
    for (int k = 0; k < BAN_KINDS; k++)
        hmap_init(&b->by_kind[k]);
}

void bans_destroy(struct bans *b)
{
    for (int k = 0; k < BAN_KINDS; k++)
        hmap_destroy(&b->by_kind[k]);
}

int bans_kind_parse(const char *s)
{
    for (int k = 0; k < BAN_KINDS; k++)
        if (!strcmp(s, kind_names[k]))
            return k;
    return -1;
}

/* Names compare by names_key() (case-folded NFC, as sign-in compares them); IPv4 addresses
 * seen through an IPv6 socket lose their prefix. */
static void key_of(enum ban_kind kind, const char *target, char key[BAN_TARGET_MAX])
{
    size_t i;

    if (kind == BAN_ADDRESS && !strncmp(target, "::ffff:", 7) && strchr(target + 7, '.'))
        target += 7;
    if (kind != BAN_ADDRESS && !names_key(target, key))
        return;
    for (i = 0; target[i] && i < BAN_TARGET_MAX - 1; i++)
        key[i] = (char)tolower((unsigned char)target[i]);
    key[i] = '\0';
}

int bans_add(struct bans *b, enum ban_kind kind, const char *target, int64_t until_ms)
{
    char key[BAN_TARGET_MAX];

    key_of(kind, target, key);
    return hmap_put(&b->by_kind[kind], key, strlen(key), (void *)(intptr_t)until_ms);
}

void bans_remove(struct bans *b, enum ban_kind kind, const char *target)
{
    char key[BAN_TARGET_MAX];

    key_of(kind, target, key);
    hmap_del(&b->by_kind[kind], key, strlen(key));
}

int64_t bans_until(struct bans *b, enum ban_kind kind, const char *target, int64_t now_ms)
{
    char key[BAN_TARGET_MAX];
    int64_t until;

    key_of(kind, target, key);
    until = (int64_t)(intptr_t)hmap_get(&b->by_kind[kind], key, strlen(key));
    if (until && until <= now_ms) {
        hmap_del(&b->by_kind[kind], key, strlen(key));
        return 0;
    }
    return until;
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
