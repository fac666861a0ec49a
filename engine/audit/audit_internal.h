/* What the audit trail's files share (engine/audit): an event as stored
 * facts (facts.c) and rendered as a given source said it (audit.c).
 * Private to engine/audit. */
#ifndef RADLINK_AUDIT_INTERNAL_H
#define RADLINK_AUDIT_INTERNAL_H

#include "radlink/audit.h"

/* The facts of ev that the record's header does not hold (type, texts,
 * participants, objects), and the audit source it was recorded under,
 * appended to out: what audit_render needs to write the same XML again. */
int audit_facts_encode(const audit_event *ev, const char *source, const char *site, rl_buf *out);
/* The facts back into ev (its strings in buf, n bytes: at least facts.n +
 * AUDIT_FACTS_SLACK), and the source and site. Returns 0, or -1 when they
 * do not decode. ev's kind, action, outcome, time and patient ID are the
 * header's: the caller sets them. */
#define AUDIT_FACTS_SLACK 64
int audit_facts_decode(rl_str facts, audit_event *ev, char *buf, size_t n, const char **source,
                       const char **site);
/* audit_render as the source and site given said it. */
int audit_render_as(const audit_event *ev, const char *source, const char *site, rl_buf *out);

#endif
