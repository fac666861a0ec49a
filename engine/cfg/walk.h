/* The walk's state, shared by the walk (cfg.c) and the table's setters and
 * checks (keys.c), which include the module's header through this one;
 * nothing outside engine/cfg sees it. */
#ifndef RADLINK_CFG_WALK_H
#define RADLINK_CFG_WALK_H

#include "radlink/cfg.h"

struct cfg_walk {
    const char *path; /* the file: named in messages, CFG_PATH_CONFIG's directory */
    rl_buf *errors;   /* every error, "path:line: message\n" */
    int bad;          /* errors so far; any refuses the file */
    cfg *c;           /* the configuration being built (not the caller's until all is well) */
    long pacs_line[RL_MAX_PACS]; /* each <pacs>'s line, for the checks after the walk */
};

#endif
