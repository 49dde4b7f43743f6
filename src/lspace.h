/* Private to the htune.space binding (src/lspace.c methods, src/lspace_new.c declarations):
 * the userdata layout and the Lua <-> value conversions both halves use. */
#ifndef HTUNE_LSPACE_H
#define HTUNE_LSPACE_H
#include "space.h"
#include <lauxlib.h>
#include <lua.h>

#define SPACE_MT "htune.Space"

/* Userdata "htune.Space". Uservalues: 1 = array of predicate functions, 2 = their names,
 * 3 = push cache: param names at 1..nparams, then each cached slot's values from
 * val_off[slot] + 1 (slots of one list share theirs; -1 = not cached, e.g. perms). */
typedef struct lspace {
    space *sp; /* NULL once closed */
    int max_tries;
    int npred;
    int *val_off; /* malloc'd, nslots entries, freed with sp */
} lspace;

/* The Lua value at idx as a space_value (strings borrowed from the stack); -1 for other types. */
int lspace_to_value(lua_State *L, int idx, space_value *v);
/* Pushes v as a Lua integer, float, string or boolean. */
void lspace_push_value(lua_State *L, const space_value *v);
/* The value at the top into cfg[slot] / the param's slots; 0, or -1 with err naming field and value. */
int lspace_slot_from_lua(lua_State *L, const space *sp, int slot, int32_t *cfg, char *err, size_t el);
int lspace_param_from_lua(lua_State *L, const space *sp, int p, int32_t *cfg, char *err, size_t el);

/* S.new and the descriptor constructors, for the module table. */
extern const luaL_Reg lspace_declaring[];
#endif
