/* The Lua runtime: state setup, module preloads, package.path, protected calls. */
#ifndef HTUNE_RUNTIME_H
#define HTUNE_RUNTIME_H
#include <lua.h>

/* Openers of the C binding modules; one per src/l<concern>.c. */
int luaopen_htune_sys(lua_State *L);
int luaopen_htune_space(lua_State *L);
int luaopen_htune_rng(lua_State *L);
int luaopen_htune_nvrtc(lua_State *L);
int luaopen_htune_cuda(lua_State *L);
int luaopen_htune_bench(lua_State *L);
int luaopen_htune_llm(lua_State *L);
int luaopen_htune_store(lua_State *L);

/* Creates a state with the standard libraries, cjson, every htune.* C module in
 * package.preload, and package.path pointing at the project's lua/ folder.
 * Returns NULL (message on stderr) when memory runs out. Caller lua_close()s it. */
lua_State *runtime_new(void);

/* The folder holding lua/, examples/, kernels/ (the source tree or PREFIX/share/htune).
 * Valid after runtime_new(); never NULL (falls back to "."). */
const char *runtime_root(void);

/* Calls the function below narg arguments with a traceback handler.
 * On error prints "htune: message\ntraceback" to stderr and returns non-zero. */
int runtime_docall(lua_State *L, int narg, int nres);

/* Runs a Lua file with global `arg` = {[0]=path, argv...}; returns 0 or 1. */
int runtime_run_file(lua_State *L, const char *path, int argc, char **argv);
#endif
