/* Counts of names by confusable skeleton (see skeletons.h). Loop thread only. */
#include "skeletons.h"

#include <stdint.h>
#include <string.h>

#include "names.h"

void skeletons_count(struct hmap *map, const char *name, int delta)
{
    char skel[NAMES_KEY_MAX];
    intptr_t n;

    for (int w = 0; w < NAMES_SKELETONS; w++) {
        if (names_skeleton(name, w, skel))
            continue;
        n = (intptr_t)hmap_get(map, skel, strlen(skel)) + delta;
        if (n > 0)
            hmap_put(map, skel, strlen(skel), (void *)n);
        else
            hmap_del(map, skel, strlen(skel));
    }
}

bool skeletons_taken(const struct hmap *map, const char *name)
{
    char skel[NAMES_KEY_MAX];

    for (int w = 0; w < NAMES_SKELETONS; w++)
        if (!names_skeleton(name, w, skel) && hmap_get(map, skel, strlen(skel)))
            return true;
    return false;
}
