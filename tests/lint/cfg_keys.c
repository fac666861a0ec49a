/* Prints the configuration's table of keys (engine/cfg/keys.c), one row a
 * line, tab-separated: element path, attribute ("" for the element's own
 * row), type, bounds, default, path rule, meaning. tests/lint/cfg_keys.py
 * compares it with docs/configuration.md and the schema; it is no CLI verb. */
#include <inttypes.h>
#include <stdio.h>

#include "radlink/cfg.h"

static const char *const type_names[] = {
    [CFG_ELEM] = "element", [CFG_STR] = "text",        [CFG_STR_CUT] = "text (cut)",
    [CFG_HOST] = "host",    [CFG_AE] = "AE title",     [CFG_PORT] = "port",
    [CFG_UINT] = "number",  [CFG_MIB] = "MiB",         [CFG_DURATION] = "duration",
    [CFG_BOOL] = "bool",    [CFG_ENUM] = "enumeration", [CFG_FILE] = "file",
};

static void print_row(const cfg_key *k)
{
    printf("%s\t%s\t%s\t", k->elem, k->attr ? k->attr : "", type_names[k->type]);
    switch (k->type) {
    case CFG_ELEM:
        printf("at most %" PRIu64 "\t\t", k->max);
        break;
    case CFG_PORT:
    case CFG_UINT:
    case CFG_MIB:
    case CFG_DURATION:
        printf("%" PRIu64 "..%" PRIu64 "\t%" PRIu64 "\t", k->min, k->max, k->def);
        break;
    case CFG_BOOL:
        printf("\t%s\t", k->def ? "true" : "false");
        break;
    case CFG_ENUM:
        for (size_t i = 0; k->names[i]; i++)
            printf("%s%s", i ? "|" : "", k->names[i]);
        printf("\t%s\t", k->names[k->def]);
        break;
    default:
        printf("up to %zu characters\t%s\t", k->size - 1, k->def_text ? k->def_text : "");
        break;
    }
    if (k->type == CFG_FILE)
        printf("%s", "config file's directory");
    printf("\t%s\n", k->doc);
}

int main(void)
{
    size_t n;
    const cfg_key *keys = cfg_keys(&n);
    for (size_t i = 0; i < n; i++)
        print_row(&keys[i]);
    return 0;
}
