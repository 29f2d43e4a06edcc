/*
 * User names through ICU (see names.h). Any thread: each thread that calls in gets its own
 * spoof checker, since a USpoofChecker may be shared only for checks, and keeping one per
 * thread needs no lock and no owner to pass around.
 */
#include "names.h"

#include <stdbool.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

/* UTF-16 units for a key: a fold or a skeleton may expand a character into several */
#define U16_CAP (NAMES_KEY_MAX)

static _Thread_local USpoofChecker *checker;

static USpoofChecker *get_checker(void)
{
    UErrorCode st = U_ZERO_ERROR;

    if (checker)
        return checker;
    checker = uspoof_open(&st);
    if (U_FAILURE(st))
        goto fail;
    uspoof_setChecks(checker, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS,
                     &st);
    uspoof_setRestrictionLevel(checker, USPOOF_HIGHLY_RESTRICTIVE);
    if (U_FAILURE(st))
        goto fail;
    return checker;
fail:
    uspoof_close(checker);
    checker = NULL;
    return NULL;
}

void names_thread_cleanup(void)
{
    uspoof_close(checker);
    checker = NULL;
}

/* UTF-8 to NFC UTF-16; the length, or -1. */
static int32_t to_nfc16(const char *s, UChar *out, int32_t cap)
{
    UChar raw[U16_CAP];
    int32_t n = 0;
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);

    if (strlen(s) >= (size_t)U16_CAP) /* a UTF-16 unit per byte at most */
        return -1;
    u_strFromUTF8(raw, U16_CAP, &n, s, -1, &st);
    if (U_FAILURE(st))
        return -1;
    n = unorm2_normalize(nfc, raw, n, out, cap, &st);
    return U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING ? -1 : n;
}

/* UTF-16 to NUL-terminated UTF-8 in `cap` bytes; 0 or -1. */
static int to_utf8(const UChar *s, int32_t n, char *out, int32_t cap)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t len = 0;

    u_strToUTF8(out, cap, &len, s, n, &st);
    return U_FAILURE(st) || len >= cap ? -1 : 0;
}

static bool allowed_char(UChar32 c)
{
    if (c == '_' || c == '-')
        return true;
    switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
        return true;
    default:
        return false;
    }
}

enum names_verdict names_canonical(const char *name, int max, char *out)
{
    UChar s[U16_CAP];
    int32_t n = to_nfc16(name, s, U16_CAP), i = 0, count = 0;
    USpoofChecker *sc = get_checker();
    UErrorCode st = U_ZERO_ERROR;
    int32_t bad;
    char key[NAMES_KEY_MAX];

    if (n < 0 || !sc)
        return NAMES_INVALID;
    if (n == 0)
        return NAMES_EMPTY;
    while (i < n) {
        UChar32 c;
        U16_NEXT(s, i, n, c);
        if (++count > max)
            return NAMES_TOO_LONG;
        if (!allowed_char(c))
            return NAMES_BAD_CHAR;
    }
    bad = uspoof_check(sc, s, n, NULL, &st);
    if (U_FAILURE(st))
        return NAMES_INVALID;
    if (bad)
        return NAMES_MIXED_SCRIPT;
    if (to_utf8(s, n, out, NAMES_BYTES_MAX))
        return NAMES_TOO_LONG;
    /* a name whose key or skeleton would not fit could never be compared */
    if (names_key(out, key))
        return NAMES_TOO_LONG;
    for (int w = 0; w < NAMES_SKELETONS; w++)
        if (names_skeleton(out, w, key))
            return NAMES_TOO_LONG;
    return NAMES_OK;
}

/* Case fold then NFC (folding may undo composition), in UTF-16; the length or -1. */
static int32_t fold16(const UChar *s, int32_t n, UChar *out, int32_t cap)
{
    UChar folded[U16_CAP];
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
    int32_t m = u_strFoldCase(folded, U16_CAP, s, n, U_FOLD_CASE_DEFAULT, &st);

    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
        return -1;
    m = unorm2_normalize(nfc, folded, m, out, cap, &st);
    return U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING ? -1 : m;
}

int names_key(const char *name, char *out)
{
    UChar s[U16_CAP], k[U16_CAP];
    int32_t n = to_nfc16(name, s, U16_CAP);

    if (n < 0 || (n = fold16(s, n, k, U16_CAP)) < 0)
        return -1;
    return to_utf8(k, n, out, NAMES_KEY_MAX);
}

int names_skeleton(const char *name, int which, char *out)
{
    UChar a[U16_CAP], b[U16_CAP];
    USpoofChecker *sc = get_checker();
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = to_nfc16(name, a, U16_CAP);

    if (n < 0 || !sc)
        return -1;
    if (which == 1) {
        n = uspoof_getSkeleton(sc, 0, a, n, b, U16_CAP, &st);
        if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
            return -1;
        memcpy(a, b, (size_t)n * sizeof(UChar));
    }
    if ((n = fold16(a, n, b, U16_CAP)) < 0)
        return -1;
    n = uspoof_getSkeleton(sc, 0, b, n, a, U16_CAP, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
        return -1;
    return to_utf8(a, n, out, NAMES_KEY_MAX);
}

const char *names_reason(enum names_verdict v)
{
    switch (v) {
    case NAMES_OK:
        return "valid";
    case NAMES_EMPTY:
        return "empty";
    case NAMES_TOO_LONG:
        return "too long";
    case NAMES_BAD_CHAR:
        return "only letters, digits, '_' and '-' are allowed";
    case NAMES_MIXED_SCRIPT:
        return "letters of different scripts cannot be mixed";
    case NAMES_INVALID:
        break;
    }
    return "not a valid name";
}
