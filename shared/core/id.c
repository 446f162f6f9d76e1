#include "id.h"

#include <uuid/uuid.h>

void cs_uuid_v4(char out[CS_UUID_STR_LEN])
{
    uuid_t uuid;
    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, out);
}
