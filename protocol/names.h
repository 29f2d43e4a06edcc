/*
 * User names in any script, through ICU: a candidate name becomes its display form (NFC),
 * its comparison key (case-folded NFC) and its confusable skeleton (Unicode TR39), and is
 * refused when it mixes scripts the way spoofs do.
 *
 * What a name may be (PROTOCOL.md 4.1): after NFC, 1..max code points, each a letter (L*), a
 * combining mark (Mn, Mc), a decimal digit (Nd) of any script, '_' or '-'; and it passes ICU's
 * spoof checks at the "highly restrictive" level (one script, or Latin with Han and
 * Hiragana/Katakana, Bopomofo or Hangul; digits of one numbering system; no repeated marks).
 *
 * ICU's spoof checker is created lazily, one per thread (never shared), and freed by
 * names_thread_cleanup(). Any thread may call these functions.
 */
#ifndef PARLOR_NAMES_H
#define PARLOR_NAMES_H

#include <stddef.h>

#define NAMES_MAX       64  /* the largest name_max, in code points */
#define NAMES_BYTES_MAX 257 /* UTF-8 bytes of a name of NAMES_MAX code points, and its NUL */
#define NAMES_KEY_MAX   512 /* bytes of a key or skeleton; longer ones make the name invalid */

enum names_verdict {
    NAMES_OK = 0,
    NAMES_EMPTY,        /* no characters */
    NAMES_TOO_LONG,     /* more than max code points */
    NAMES_BAD_CHAR,     /* a character that is not a letter, mark, digit, '_' or '-' */
    NAMES_MIXED_SCRIPT, /* fails the spoof checks (mixed scripts or numbers, repeated marks) */
    NAMES_INVALID,      /* not UTF-8, or ICU failed */
};

/* Checks `name` and writes its NFC form to `out` (NAMES_BYTES_MAX bytes). NAMES_OK or why not. */
enum names_verdict names_canonical(const char *name, int max, char *out);
/* The comparison key of `name`: full case folding (ß = ss) of its NFC form, NFC again. Two
 * names are the same name when their keys are equal. 0, or -1 (bad UTF-8, too long). */
int names_key(const char *name, char *out);
/* A name has NAMES_SKELETONS confusable skeletons (Unicode TR39): 0, the skeleton of its
 * case-folded form; 1, the skeleton of the case-folded skeleton of its form as written (`I`
 * is a prototype of `l`, which folding alone would lose). Two names are confusable when a
 * skeleton of one equals a skeleton of the other: `аlice` (Cyrillic а), `ALICE` and `alice`;
 * `Iris` and `lris`. Writes skeleton `which` to `out`; 0 or -1. */
#define NAMES_SKELETONS 2
int names_skeleton(const char *name, int which, char *out);
/* A short English phrase for a verdict, for error messages. */
const char *names_reason(enum names_verdict v);
/* Frees this thread's spoof checker; the next call creates it again. */
void names_thread_cleanup(void);

#endif
