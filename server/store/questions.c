/* Question packs for every engine (see questions.h): parsing and checking a JSON-lines pack
 * and the all-or-nothing rules of an import; the engine only runs its transaction and its
 * insert. Runs at startup on the main thread, from the `import` command, or on a worker (an
 * upload to /admin/import), always with the caller's own connection. */
#include "questions.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

#define QB_CATEGORY_MAX 40  /* characters */
#define QB_TEXT_MAX     300 /* characters */
#define QB_CHOICE_MAX   100 /* characters */
#define QB_LANG_MAX     35  /* characters of a BCP 47 tag */

int questions_add_stored(struct qbank *b, int64_t id, const char *category, const char *text,
                         const char *choices, int correct, const char *lang, char *err,
                         size_t errlen)
{
    json_t *c = choices ? json_loads(choices, 0, NULL) : NULL;
    int bad = !json_is_array(c) || json_array_size(c) != QUIZ_CHOICES ||
              qbank_add(b, id, category, text, c, correct, lang);

    json_decref(c);
    if (bad)
        snprintf(err, errlen, "question %lld is damaged or out of memory", (long long)id);
    return bad ? -1 : 0;
}

/* A string field of 1..max characters, or an error naming it. */
static const char *text_field(json_t *o, const char *field, size_t max, char *why, size_t wlen)
{
    json_t *v = json_object_get(o, field);
    const char *s;

    if (!json_is_string(v)) {
        snprintf(why, wlen, "field '%s' must be a string", field);
        return NULL;
    }
    s = json_string_value(v);
    if (!*s || proto_utf8_len(s) > max || strlen(s) != json_string_length(v)) {
        snprintf(why, wlen, "field '%s' must be 1-%zu characters", field, max);
        return NULL;
    }
    return s;
}

/* A language tag in the simple BCP 47 shape players' browsers understand: a primary subtag of
 * 2-3 letters, then subtags of 2-8 letters or digits, each after a '-' ("en", "pt-BR",
 * "sr-Latn-RS"). Stricter than the RFC (no single-letter extensions, no grandfathered tags) so
 * that what a pack carries is what the page can show. */
static int lang_valid(const char *s)
{
    size_t n = 0, total = strlen(s);
    const char *p = s;

    if (total > QB_LANG_MAX)
        return 0;
    while (isalpha((unsigned char)*p) && (unsigned char)*p < 0x80)
        p++, n++;
    if (n < 2 || n > 3)
        return 0;
    while (*p) {
        if (*p++ != '-')
            return 0;
        for (n = 0; isalnum((unsigned char)*p) && (unsigned char)*p < 0x80; p++)
            n++;
        if (n < 2 || n > 8)
            return 0;
    }
    return 1;
}

/* Checks one record; returns 0, or -1 with the reason in `why`. */
static int check_record(json_t *o, char *why, size_t wlen)
{
    json_t *choices, *correct, *lang;

    if (!json_is_object(o)) {
        snprintf(why, wlen, "not a JSON object");
        return -1;
    }
    if (!text_field(o, "category", QB_CATEGORY_MAX, why, wlen) ||
        !text_field(o, "text", QB_TEXT_MAX, why, wlen))
        return -1;
    choices = json_object_get(o, "choices");
    if (!json_is_array(choices) || json_array_size(choices) != QUIZ_CHOICES) {
        snprintf(why, wlen, "field 'choices' must be an array of %d strings", QUIZ_CHOICES);
        return -1;
    }
    for (size_t i = 0; i < QUIZ_CHOICES; i++) {
        json_t *c = json_array_get(choices, i);
        if (!json_is_string(c) || !*json_string_value(c) ||
            proto_utf8_len(json_string_value(c)) > QB_CHOICE_MAX) {
            snprintf(why, wlen, "field 'choices' item %zu must be 1-%d characters", i,
                     QB_CHOICE_MAX);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(json_string_value(c), json_string_value(json_array_get(choices, j)))) {
                snprintf(why, wlen, "field 'choices' items %zu and %zu are the same", j, i);
                return -1;
            }
    }
    correct = json_object_get(o, "correct");
    if (!json_is_integer(correct) || json_integer_value(correct) < 0 ||
        json_integer_value(correct) >= QUIZ_CHOICES) {
        snprintf(why, wlen, "field 'correct' must be an integer from 0 to %d", QUIZ_CHOICES - 1);
        return -1;
    }
    lang = json_object_get(o, "lang");
    if (lang &&
        (!json_is_string(lang) || strlen(json_string_value(lang)) != json_string_length(lang) ||
         !lang_valid(json_string_value(lang)))) {
        snprintf(why, wlen,
                 "field 'lang' must be a language tag such as \"en\" or \"pt-BR\" (at most %d "
                 "characters)",
                 QB_LANG_MAX);
        return -1;
    }
    return 0;
}

int questions_import(const struct questions_sink *sink, void *arg, FILE *f, const char *label,
                     const char *pack, int *added, struct qbank *added_to, char *err, size_t errlen)
{
    struct qbank fresh = {0};
    char *line = NULL, why[160];
    size_t cap = 0;
    long lineno = 0;
    ssize_t len;

    *added = 0;
    if (sink->begin(arg, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", label, why);
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        json_error_t jerr;
        json_t *o;
        struct question_row q;
        int64_t id;
        int rc;

        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue; /* a blank line */
        o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o) {
            snprintf(err, errlen, "%s line %ld: invalid JSON: %s", label, lineno, jerr.text);
            goto fail;
        }
        if (check_record(o, why, sizeof(why))) {
            snprintf(err, errlen, "%s line %ld: %s", label, lineno, why);
            json_decref(o);
            goto fail;
        }
        q = (struct question_row){
            .pack = pack,
            .category = json_string_value(json_object_get(o, "category")),
            .text = json_string_value(json_object_get(o, "text")),
            .choices = json_dumps(json_object_get(o, "choices"), JSON_COMPACT),
            .correct = (int)json_integer_value(json_object_get(o, "correct")),
            .lang = json_string_value(json_object_get(o, "lang")), /* NULL when absent */
        };
        rc = q.choices ? sink->insert(arg, &q, &id, why, sizeof(why)) : -1;
        if (!q.choices)
            snprintf(why, sizeof(why), "out of memory");
        if (rc == 1) {
            (*added)++;
            if (added_to && qbank_add(&fresh, id, q.category, q.text, json_object_get(o, "choices"),
                                      q.correct, q.lang)) {
                snprintf(why, sizeof(why), "out of memory");
                rc = -1;
            }
        }
        free((char *)q.choices);
        json_decref(o);
        if (rc < 0) {
            snprintf(err, errlen, "%s line %ld: %s", label, lineno, why);
            goto fail;
        }
    }
    if (sink->commit(arg, why, sizeof(why))) {
        snprintf(err, errlen, "%s: commit: %s", label, why);
        goto fail;
    }
    free(line);
    if (added_to && qbank_take(added_to, &fresh)) {
        qbank_destroy(&fresh); /* stored, but not loaded: they appear after a restart */
        snprintf(err, errlen, "%s: out of memory", label);
        return -1;
    }
    return 0;
fail:
    sink->rollback(arg);
    free(line);
    qbank_destroy(&fresh);
    *added = 0;
    return -1;
}
