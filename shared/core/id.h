/* Identifiers: random UUIDs for request, correlation and message ids. */
#ifndef CS_CORE_ID_H
#define CS_CORE_ID_H

/* 36 characters and a NUL. */
#define CS_UUID_STR_LEN 37

/* Writes a random (version 4) UUID in lower case, e.g.
 * "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", from the kernel's random source. */
void cs_uuid_v4(char out[CS_UUID_STR_LEN]);

#endif
