/*
 * Counts of names by confusable skeleton (names_skeleton()), in an hmap: one count per
 * skeleton, since names that came before skeletons were compared (old accounts) may share
 * one. Online names and registered names each keep such a map. Loop thread only.
 */
#ifndef PARLOR_SKELETONS_H
#define PARLOR_SKELETONS_H

#include <stdbool.h>

#include "hmap.h"

/* Adds `delta` (+1 or -1) to the count of each skeleton of `name`; a count of 0 is removed. */
void skeletons_count(struct hmap *map, const char *name, int delta);
/* True when a skeleton of `name` has a count in `map`: a look-alike of a counted name. */
bool skeletons_taken(const struct hmap *map, const char *name);

#endif
