// De-identification's walk over a DCMTK data set (deid_walk.cc), as deid.cc
// drives it: the identifiers first, then every element under its action.
#ifndef RADLINK_DICOM_DEID_WALK_H
#define RADLINK_DICOM_DEID_WALK_H

#include <cstdint>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

namespace rl_dicom {

// What a walk needs: the options (route_deid_option bits), the site's
// secret (DICOM_DEID_SECRET_SIZE bytes, borrowed), the private creators
// whose blocks stay, the identifiers cleaned out of free text (filled by
// deid_identifiers), and why the walk stopped.
struct deid_ctx {
    unsigned options = 0;
    const uint8_t *secret = nullptr;
    std::vector<std::string> keep;
    std::vector<std::string> words; // longest first
    std::vector<const char *> wordp; // into words
    std::string why;
};

// s cut at any of seps, each piece without its padding (spaces, NULs).
std::vector<std::string> deid_split(const std::string &s, const char *seps);
// Read the identifiers of ds into c (before ds changes).
void deid_identifiers(deid_ctx &c, DcmItem *ds);
// De-identify ds, or the File Meta Information: false with c.why when an
// element cannot be changed (the data set is then half de-identified).
bool deid_walk(deid_ctx &c, DcmItem *ds);
bool deid_walk_meta(deid_ctx &c, DcmMetaInfo *meta);

} // namespace rl_dicom

#endif
