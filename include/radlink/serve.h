/* The engine process: owns the event loop and everything it serves. */
#ifndef RADLINK_SERVE_H
#define RADLINK_SERVE_H

#include "radlink/cfg.h"

/* Run until SIGINT or SIGTERM; returns the process exit status (0 on a clean
 * shutdown). */
int serve_run(const cfg *c);

#endif
