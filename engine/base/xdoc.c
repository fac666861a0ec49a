/* XML loading with libxml2 for config and route files; see radlink/xdoc.h. */
#include "radlink/xdoc.h"

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <stdarg.h>
#include <string.h>

#include "radlink/limits.h"

typedef struct collect {
    rl_buf *errors;
    const char *path;
    int count;
} collect;

static void on_error(void *ctx, const xmlError *e)
{
    collect *c = ctx;
    if (c->count++ > 100)
        return; /* bounded: the first hundred errors are plenty */
    const char *msg = e->message ? e->message : "error";
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    /* libxml2 names schema elements as "{ns}name"; drop the empty namespace. */
    rl_buf_printf(c->errors, "%s:%d: %.*s\n", c->path, e->line, (int)n, msg);
}

static void on_error_compat(void *ctx, xmlErrorPtr e)
{
    on_error(ctx, e);
}

xmlDocPtr xdoc_load_mem(const char *name, const char *text, size_t len, const char *xsd,
                        size_t xsd_len, rl_buf *errors)
{
    collect c = { errors, name, 0 };
    if (len > RL_MAX_XML_BYTES) {
        rl_buf_printf(errors, "%s: larger than %u bytes\n", name, RL_MAX_XML_BYTES);
        return NULL;
    }
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc) {
        rl_buf_printf(errors, "%s: out of memory\n", name);
        return NULL;
    }
    xmlSetStructuredErrorFunc(&c, on_error_compat);
    xmlDocPtr doc = xmlCtxtReadMemory(pc, text, (int)len, name, NULL,
                                      XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING);
    xmlFreeParserCtxt(pc);
    /* No DTD: an entity referenced thousands of times (the "billion laughs")
     * would be expanded when an attribute or the schema reads it. Route and
     * config files need none. */
    if (doc && (doc->intSubset || doc->extSubset)) {
        int line = 1;
        const char *dt = NULL;
        for (size_t i = 0; i + 9 <= len && !dt; i++) {
            if (text[i] == '\n')
                line++;
            else if (!memcmp(text + i, "<!DOCTYPE", 9))
                dt = text + i;
        }
        rl_buf_printf(errors, "%s:%d: a DTD (<!DOCTYPE>) is not allowed: these files take no "
                      "entities or declarations\n", name, line);
        xmlSetStructuredErrorFunc(NULL, NULL);
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!doc || c.count) {
        if (c.count == 0)
            rl_buf_printf(errors, "%s: not well-formed XML\n", name);
        xmlSetStructuredErrorFunc(NULL, NULL);
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlSchemaParserCtxtPtr spc = xmlSchemaNewMemParserCtxt(xsd, (int)xsd_len);
    xmlSchemaPtr schema = spc ? xmlSchemaParse(spc) : NULL;
    xmlSchemaFreeParserCtxt(spc);
    if (!schema) {
        rl_buf_printf(errors, "%s: internal error: the embedded schema does not load\n", name);
        xmlSetStructuredErrorFunc(NULL, NULL);
        xmlFreeDoc(doc);
        return NULL;
    }
    c.count = 0;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidStructuredErrors(vc, on_error_compat, &c);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (rc != 0) {
        if (c.count == 0)
            rl_buf_printf(errors, "%s: does not follow the schema\n", name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

int xdoc_read(const char *path, rl_buf *b, rl_buf *errors)
{
    rl_err err;
    rl_buf_init(b, RL_MAX_XML_BYTES);
    if (rl_read_file(path, b, &err) == 0)
        return 0;
    rl_buf_printf(errors, "%s\n", err.msg);
    rl_buf_free(b);
    return -1;
}

xmlDocPtr xdoc_load(const char *path, const char *xsd, size_t xsd_len, rl_buf *errors)
{
    rl_buf b;
    if (xdoc_read(path, &b, errors) != 0)
        return NULL;
    xmlDocPtr doc = xdoc_load_mem(path, b.data ? b.data : "", b.len, xsd, xsd_len, errors);
    rl_buf_free(&b);
    return doc;
}

void xdoc_error(rl_buf *errors, const char *path, const xmlNode *node, const char *fmt, ...)
{
    va_list ap;
    rl_buf_printf(errors, "%s:%ld: ", path, node ? xmlGetLineNo(node) : 0L);
    va_start(ap, fmt);
    rl_buf_vprintf(errors, fmt, ap);
    va_end(ap);
    rl_buf_add_ch(errors, '\n');
}

const char *xdoc_attr(const xmlNode *n, const char *name)
{
    xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)name);
    if (!a)
        return NULL;
    if (!a->children || !a->children->content)
        return "";
    return (const char *)a->children->content;
}

const char *xdoc_text(const xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            return (const char *)c->content;
    return "";
}

xmlNode *xdoc_first(const xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

xmlNode *xdoc_next(const xmlNode *n)
{
    for (xmlNode *c = n->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

bool xdoc_is(const xmlNode *n, const char *name)
{
    return n && strcmp((const char *)n->name, name) == 0;
}
