/*
 * Password hashing (scrypt) and session tokens (HMAC-SHA256). Pure functions over OpenSSL:
 * no state of their own, safe on any thread. Hashing is slow on purpose (tenths of a second,
 * 128 MiB): call it on a pool worker, never on the loop. Token checks take microseconds.
 */
#ifndef PARLOR_AUTH_H
#define PARLOR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_SALT_LEN   16
#define AUTH_HASH_LEN   32
#define AUTH_KEY_LEN    32
#define AUTH_PARAMS_MAX 64  /* "scrypt:N=131072,r=8,p=1" */
#define AUTH_TOKEN_MAX  160 /* longest token auth_token_make writes, with its NUL */
#define AUTH_PW_MIN     8   /* password bytes */
#define AUTH_PW_MAX     128

struct auth_scrypt {
    uint64_t n; /* CPU/memory cost, a power of two */
    uint32_t r, p;
};

/* What new passwords are hashed with: N = 2^log2n, r = 8, p = 1. */
struct auth_scrypt auth_scrypt_default(int log2n);
/* Hashes with a fresh random salt; writes the parameters as text into `params` so they can be
 * raised later without breaking stored hashes. 0, or -1 (OpenSSL refused). */
int auth_hash_password(const char *pw, size_t pwlen, struct auth_scrypt cost,
                       uint8_t salt[AUTH_SALT_LEN], uint8_t hash[AUTH_HASH_LEN],
                       char params[AUTH_PARAMS_MAX]);
/* Re-hashes with the stored salt and parameters and compares in constant time. */
bool auth_verify_password(const char *pw, size_t pwlen, const char *params, const uint8_t *salt,
                          size_t saltlen, const uint8_t *hash, size_t hashlen);
/* Burns the same time as a verification, for names that have no account, so a login's
 * duration does not tell whether the name is registered. */
void auth_dummy_verify(const char *pw, size_t pwlen, struct auth_scrypt cost);

/* A token for `user_id` valid until `expires_ms`: "v1.<user>.<nonce>.<expiry>.<mac>". A
 * positive id names an account; a negative one, a guest's session (-session id). */
int auth_token_make(const uint8_t key[AUTH_KEY_LEN], int64_t user_id, int64_t expires_ms,
                    char out[AUTH_TOKEN_MAX]);

enum auth_token_result { AUTH_TOKEN_OK = 0, AUTH_TOKEN_BAD = -1, AUTH_TOKEN_EXPIRED = -2 };

/* Checks the MAC (constant time) and the expiry against `now_ms`; on success sets user_id. */
enum auth_token_result auth_token_check(const uint8_t key[AUTH_KEY_LEN], const char *token,
                                        int64_t now_ms, int64_t *user_id);

#endif
