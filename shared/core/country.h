/* ISO 3166-1 alpha-2 country codes. */
#ifndef CS_CORE_COUNTRY_H
#define CS_CORE_COUNTRY_H

#include <stdbool.h>

#include "str.h"

/* True for the 249 officially assigned codes (upper case, "DE") and for
 * "XK" (Kosovo), which ISO leaves user-assigned but storefronts use. */
bool cs_country_valid(cs_str code);

#endif
