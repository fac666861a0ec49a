/* A growing list of UIDs copied out of LMDB (study and SOP Instance UIDs, 64
 * characters at most by PS3.5): collected first, because what is done with
 * them writes, and a write ends the views an index walk hands out. Private to
 * engine/recon. */
#ifndef RADLINK_RECON_UIDS_H
#define RADLINK_RECON_UIDS_H

#include <stdio.h>
#include <stdlib.h>

#include "radlink/util.h"

typedef struct uid_list {
    char (*u)[128];
    size_t n, cap;
    bool nomem; /* a UID could not be kept */
} uid_list;

/* A study_visit callback: append v (returns 1 to stop when out of memory). */
static inline int uid_list_take(void *ctx, rl_str v)
{
    uid_list *x = ctx;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *nu = realloc(x->u, cap * sizeof *x->u);
        if (!nu) {
            x->nomem = true;
            return 1;
        }
        x->u = nu;
        x->cap = cap;
    }
    snprintf(x->u[x->n++], sizeof x->u[0], "%.*s", (int)(v.n < 127 ? v.n : 127), v.p);
    return 0;
}

static inline void uid_list_free(uid_list *x)
{
    free(x->u);
    x->u = NULL;
    x->n = x->cap = 0;
}

#endif
