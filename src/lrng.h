/* htune.rng binding helpers shared with other bindings (lspace.c takes Rng arguments). */
#ifndef HTUNE_LRNG_H
#define HTUNE_LRNG_H
#include "rng.h"
#include <lua.h>

/* The rng_t inside the "htune.Rng" userdata at stack index i; raises if it is not one. */
rng_t *lrng_check(lua_State *L, int i);
#endif
