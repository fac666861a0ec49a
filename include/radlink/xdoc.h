/* Loading the XML files people write (config, routes): size-capped read,
 * libxml2 parse without network or entity expansion, XSD validation, and
 * errors collected as "file:line: message" lines. */
#ifndef RADLINK_XDOC_H
#define RADLINK_XDOC_H

#include <libxml/tree.h>

#include "radlink/util.h"

/* Read an XML file whole into b (born with RL_MAX_XML_BYTES as its cap; the
 * caller frees it): 0, or -1 after appending the reason to errors. */
int xdoc_read(const char *path, rl_buf *b, rl_buf *errors);
/* Parse and validate path against the schema text xsd. Returns the document
 * (free with xmlFreeDoc) or NULL after appending every error found to errors,
 * one "path:line: message" per line. */
xmlDocPtr xdoc_load(const char *path, const char *xsd, size_t xsd_len, rl_buf *errors);
/* Same, from memory (name is used in messages). */
xmlDocPtr xdoc_load_mem(const char *name, const char *text, size_t len, const char *xsd,
                        size_t xsd_len, rl_buf *errors);

/* Append "path:line: message\n" for node. */
void xdoc_error(rl_buf *errors, const char *path, const xmlNode *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attribute value borrowed from the document (valid until xmlFreeDoc), or NULL. */
const char *xdoc_attr(const xmlNode *n, const char *name);
/* Text content of an element, borrowed, or "" when it has none. */
const char *xdoc_text(const xmlNode *n);
/* Element children helpers: first element child / next element sibling. */
xmlNode *xdoc_first(const xmlNode *n);
xmlNode *xdoc_next(const xmlNode *n);
bool xdoc_is(const xmlNode *n, const char *name);

#endif
