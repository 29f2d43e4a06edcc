/*
 * Tests for password hashing and tokens (server/accounts/auth.c): a hash verifies with the right
 * password only, carries its parameters, and works at the default cost (N = 2^17, which
 * OpenSSL refuses without a raised maxmem); a token checks out with its key until it expires,
 * and any change to any character, or another key, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static const uint8_t key[AUTH_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static void test_auth_hash_verifies_only_the_right_password(void **state)
{
    uint8_t salt[AUTH_SALT_LEN], hash[AUTH_HASH_LEN], salt2[AUTH_SALT_LEN], hash2[AUTH_HASH_LEN];
    char params[AUTH_PARAMS_MAX], params2[AUTH_PARAMS_MAX];
    const char *pw = "correct horse battery";

    assert_int_equal(
        auth_hash_password(pw, strlen(pw), auth_scrypt_default(10), salt, hash, params), 0);
    assert_string_equal(params, "scrypt:N=1024,r=8,p=1");
    assert_true(
        auth_verify_password(pw, strlen(pw), params, salt, sizeof(salt), hash, sizeof(hash)));
    assert_false(auth_verify_password("correct horse batterY", strlen(pw), params, salt,
                                      sizeof(salt), hash, sizeof(hash)));
    assert_false(
        auth_verify_password(pw, strlen(pw) - 1, params, salt, sizeof(salt), hash, sizeof(hash)));
    /* the parameters matter: the same password under other ones does not match */
    assert_false(auth_verify_password(pw, strlen(pw), "scrypt:N=2048,r=8,p=1", salt, sizeof(salt),
                                      hash, sizeof(hash)));
    assert_false(auth_verify_password(pw, strlen(pw), "scrypt:N=1000,r=8,p=1", salt, sizeof(salt),
                                      hash, sizeof(hash)));
    assert_false(
        auth_verify_password(pw, strlen(pw), "bcrypt", salt, sizeof(salt), hash, sizeof(hash)));
    assert_false(auth_verify_password(pw, strlen(pw), params, salt, sizeof(salt), hash, 16));

    /* a fresh salt each time: the same password hashes differently */
    assert_int_equal(
        auth_hash_password(pw, strlen(pw), auth_scrypt_default(10), salt2, hash2, params2), 0);
    assert_memory_not_equal(salt, salt2, sizeof(salt));
    assert_memory_not_equal(hash, hash2, sizeof(hash));
}

static void test_auth_default_cost_works(void **state)
{
    uint8_t salt[AUTH_SALT_LEN], hash[AUTH_HASH_LEN];
    char params[AUTH_PARAMS_MAX];

    assert_int_equal(
        auth_hash_password("password1", 9, auth_scrypt_default(17), salt, hash, params), 0);
    assert_string_equal(params, "scrypt:N=131072,r=8,p=1");
    assert_true(
        auth_verify_password("password1", 9, params, salt, sizeof(salt), hash, sizeof(hash)));
}

static void test_auth_token_round_trip_and_expiry(void **state)
{
    char token[AUTH_TOKEN_MAX];
    int64_t uid = 0;

    assert_int_equal(auth_token_make(key, 42, 1000000, token), 0);
    assert_int_equal(strncmp(token, "v1.42.", 6), 0);
    assert_int_equal(auth_token_check(key, token, 999999, &uid), AUTH_TOKEN_OK);
    assert_int_equal(uid, 42);
    assert_int_equal(auth_token_check(key, token, 1000000, &uid), AUTH_TOKEN_EXPIRED);
    assert_int_equal(auth_token_check(key, token, 5000000, &uid), AUTH_TOKEN_EXPIRED);
}

static void test_auth_token_refuses_any_change_and_other_keys(void **state)
{
    static const uint8_t other[AUTH_KEY_LEN] = "fedcba9876543210fedcba9876543210";
    char token[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX];
    int64_t uid = 0;
    size_t len;

    assert_int_equal(auth_token_make(key, 7, INT64_MAX, token), 0);
    len = strlen(token);
    for (size_t i = 0; i < len; i++) {
        memcpy(bad, token, len + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(auth_token_check(key, bad, 0, &uid), AUTH_TOKEN_BAD);
    }
    assert_int_equal(auth_token_check(other, token, 0, &uid), AUTH_TOKEN_BAD);

    /* a forged user or expiry with the old MAC */
    snprintf(bad, sizeof(bad), "v1.8%s", token + 4);
    assert_int_equal(auth_token_check(key, bad, 0, &uid), AUTH_TOKEN_BAD);
    memcpy(bad, token, len + 1);
    bad[len - 1] = '\0';
    assert_int_equal(auth_token_check(key, bad, 0, &uid), AUTH_TOKEN_BAD);
    assert_int_equal(auth_token_check(key, "", 0, &uid), AUTH_TOKEN_BAD);
    assert_int_equal(auth_token_check(key, "v1.1.x.2", 0, &uid), AUTH_TOKEN_BAD);
    assert_int_equal(auth_token_check(key, "....", 0, &uid), AUTH_TOKEN_BAD);
}

static void test_auth_tokens_differ_for_the_same_user(void **state)
{
    char a[AUTH_TOKEN_MAX], b[AUTH_TOKEN_MAX];

    assert_int_equal(auth_token_make(key, 1, 100, a), 0);
    assert_int_equal(auth_token_make(key, 1, 100, b), 0);
    assert_string_not_equal(a, b); /* the nonce */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_hash_verifies_only_the_right_password),
        cmocka_unit_test(test_auth_default_cost_works),
        cmocka_unit_test(test_auth_token_round_trip_and_expiry),
        cmocka_unit_test(test_auth_token_refuses_any_change_and_other_keys),
        cmocka_unit_test(test_auth_tokens_differ_for_the_same_user),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
