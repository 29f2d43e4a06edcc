/*
 * scrypt password hashes and HMAC-SHA256 tokens (see auth.h). Any thread.
 */
#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* scrypt needs 128 * r * N bytes: 128 MiB at N = 2^17, r = 8. OpenSSL refuses above maxmem,
 * whose default (32 MiB) is too small; leave headroom for the parameters we may raise to. */
#define AUTH_SCRYPT_MAXMEM (1024ULL * 1024 * 1024)

struct auth_scrypt auth_scrypt_default(int log2n)
{
    return (struct auth_scrypt){.n = 1ULL << log2n, .r = 8, .p = 1};
}

static int scrypt(const char *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                  struct auth_scrypt c, uint8_t *out, size_t outlen)
{
    return EVP_PBE_scrypt(pw, pwlen, salt, saltlen, c.n, c.r, c.p, AUTH_SCRYPT_MAXMEM, out,
                          outlen) == 1
               ? 0
               : -1;
}

static int parse_params(const char *params, struct auth_scrypt *c)
{
    uint64_t n;
    uint32_t r, p;
    int end = 0;

    if (sscanf(params, "scrypt:N=%" SCNu64 ",r=%" SCNu32 ",p=%" SCNu32 "%n", &n, &r, &p, &end) !=
            3 ||
        params[end] || n < 2 || (n & (n - 1)) || !r || !p)
        return -1;
    *c = (struct auth_scrypt){.n = n, .r = r, .p = p};
    return 0;
}

int auth_hash_password(const char *pw, size_t pwlen, struct auth_scrypt cost,
                       uint8_t salt[AUTH_SALT_LEN], uint8_t hash[AUTH_HASH_LEN],
                       char params[AUTH_PARAMS_MAX])
{
    if (RAND_bytes(salt, AUTH_SALT_LEN) != 1)
        return -1;
    snprintf(params, AUTH_PARAMS_MAX, "scrypt:N=%" PRIu64 ",r=%" PRIu32 ",p=%" PRIu32, cost.n,
             cost.r, cost.p);
    return scrypt(pw, pwlen, salt, AUTH_SALT_LEN, cost, hash, AUTH_HASH_LEN);
}

bool auth_verify_password(const char *pw, size_t pwlen, const char *params, const uint8_t *salt,
                          size_t saltlen, const uint8_t *hash, size_t hashlen)
{
    struct auth_scrypt c;
    uint8_t got[AUTH_HASH_LEN];
    bool ok;

    if (hashlen != AUTH_HASH_LEN || parse_params(params, &c) ||
        scrypt(pw, pwlen, salt, saltlen, c, got, sizeof(got)))
        return false;
    ok = CRYPTO_memcmp(got, hash, AUTH_HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}

void auth_dummy_verify(const char *pw, size_t pwlen, struct auth_scrypt cost)
{
    static const uint8_t salt[AUTH_SALT_LEN];
    uint8_t out[AUTH_HASH_LEN];

    (void)scrypt(pw, pwlen, salt, sizeof(salt), cost, out, sizeof(out));
}

static void base64url(const uint8_t *in, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t v;

    for (size_t i = 0; i < len; i += 3) {
        v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = abc[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

/* The MAC of the token's first part (everything before the last '.'), base64url. */
static int mac_of(const uint8_t key[AUTH_KEY_LEN], const char *payload, size_t len, char out[48])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;

    if (!HMAC(EVP_sha256(), key, AUTH_KEY_LEN, (const uint8_t *)payload, len, mac, &maclen) ||
        maclen != 32)
        return -1;
    base64url(mac, maclen, out); /* 43 characters */
    return 0;
}

int auth_token_make(const uint8_t key[AUTH_KEY_LEN], int64_t user_id, int64_t expires_ms,
                    char out[AUTH_TOKEN_MAX])
{
    uint8_t nonce[12];
    char nonce64[20], mac[48];
    int n;

    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return -1;
    base64url(nonce, sizeof(nonce), nonce64);
    n = snprintf(out, AUTH_TOKEN_MAX, "v1.%" PRId64 ".%s.%" PRId64, user_id, nonce64, expires_ms);
    if (n < 0 || n >= AUTH_TOKEN_MAX - 48 || mac_of(key, out, (size_t)n, mac))
        return -1;
    snprintf(out + n, AUTH_TOKEN_MAX - (size_t)n, ".%s", mac);
    return 0;
}

enum auth_token_result auth_token_check(const uint8_t key[AUTH_KEY_LEN], const char *token,
                                        int64_t now_ms, int64_t *user_id)
{
    const char *dot = strrchr(token, '.');
    char mac[48], nonce[20];
    int64_t uid, expires;
    int end = 0;
    size_t len = strlen(token);

    if (!dot || len >= AUTH_TOKEN_MAX || strlen(dot + 1) != 43)
        return AUTH_TOKEN_BAD;
    if (mac_of(key, token, (size_t)(dot - token), mac) || CRYPTO_memcmp(mac, dot + 1, 43))
        return AUTH_TOKEN_BAD;
    /* authentic: the fields are ours, but read them strictly all the same */
    if (sscanf(token, "v1.%" SCNd64 ".%16[A-Za-z0-9_-].%" SCNd64 "%n", &uid, nonce, &expires,
               &end) != 3 ||
        token + end != dot || uid == 0)
        return AUTH_TOKEN_BAD;
    if (now_ms >= expires)
        return AUTH_TOKEN_EXPIRED;
    *user_id = uid;
    return AUTH_TOKEN_OK;
}
