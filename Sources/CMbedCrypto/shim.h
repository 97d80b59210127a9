#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
