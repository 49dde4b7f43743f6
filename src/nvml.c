/* SM clock readings through NVML (see nvml.h): the few entry points the bench loop needs,
 * resolved with dlsym from libnvidia-ml.so.1, with types declared here (no nvml.h in the
 * toolkit we build against), and a scripted fake for CPU tests. */
#include "nvml.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nvml_device_st *nvml_device;   /* nvmlDevice_t */
enum { NVML_OK = 0, NVML_CLOCK_SM = 1 };       /* NVML_SUCCESS, nvmlClockType_t NVML_CLOCK_SM */

typedef int (*init_fn)(void);
typedef int (*shutdown_fn)(void);
typedef const char *(*error_string_fn)(int);
typedef int (*by_pci_fn)(const char *, nvml_device *);
typedef int (*by_index_fn)(unsigned, nvml_device *);
typedef int (*clock_fn)(nvml_device, int, unsigned *);
typedef int (*reasons_fn)(nvml_device, unsigned long long *);

struct fake_script { unsigned mhz, bad_mhz; uint64_t reasons; int period, bad; long reads; };

struct nvml {
    void *lib;
    nvml_device dev;
    unsigned max_mhz;
    clock_fn clock_info;
    reasons_fn reasons;          /* ClocksEventReasons, or the older ClocksThrottleReasons; may be NULL */
    shutdown_fn shutdown;
    int fake;
    long reads;
    struct fake_script script;
};

static void *sym(void *lib, const char *name, char *reason, size_t len) {
    void *p = dlsym(lib, name);
    if (!p) snprintf(reason, len, "NVML unavailable: libnvidia-ml lacks %s", name);
    return p;
}

static int find_device(struct nvml *n, const char *pci_bus_id, int index, char *reason, size_t len) {
    by_pci_fn by_pci = (by_pci_fn)dlsym(n->lib, "nvmlDeviceGetHandleByPciBusId_v2");
    if (pci_bus_id && by_pci && by_pci(pci_bus_id, &n->dev) == NVML_OK) return 0;
    by_index_fn by_index = (by_index_fn)sym(n->lib, "nvmlDeviceGetHandleByIndex_v2", reason, len);
    int r = by_index ? by_index((unsigned)index, &n->dev) : -1;
    if (r == NVML_OK) return 0;
    error_string_fn es = (error_string_fn)dlsym(n->lib, "nvmlErrorString");
    if (by_index)
        snprintf(reason, len, "NVML unavailable: no NVML device for PCI bus id %s or index %d: %s",
                 pci_bus_id ? pci_bus_id : "(none)", index, es ? es(r) : "error");
    return -1;
}

/* Resolves the entry points, initializes NVML and finds the device. */
static int load(struct nvml *n, const char *pci_bus_id, int index, char *reason, size_t len) {
    init_fn init = (init_fn)sym(n->lib, "nvmlInit_v2", reason, len);
    n->shutdown = (shutdown_fn)sym(n->lib, "nvmlShutdown", reason, len);
    n->clock_info = (clock_fn)sym(n->lib, "nvmlDeviceGetClockInfo", reason, len);
    clock_fn max_info = (clock_fn)sym(n->lib, "nvmlDeviceGetMaxClockInfo", reason, len);
    if (!init || !n->shutdown || !n->clock_info || !max_info) return -1;
    n->reasons = (reasons_fn)dlsym(n->lib, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!n->reasons) n->reasons = (reasons_fn)dlsym(n->lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
    int r = init();
    if (r != NVML_OK) {
        error_string_fn es = (error_string_fn)dlsym(n->lib, "nvmlErrorString");
        snprintf(reason, len, "NVML unavailable: nvmlInit_v2: %s (%d)", es ? es(r) : "error", r);
        n->shutdown = NULL;
        return -1;
    }
    if (find_device(n, pci_bus_id, index, reason, len)) return -1;
    if (max_info(n->dev, NVML_CLOCK_SM, &n->max_mhz) != NVML_OK) n->max_mhz = 0;
    return 0;
}

struct nvml *nvml_open(const char *pci_bus_id, int index, char *reason, size_t reasonlen) {
    const char *path = getenv("HTUNE_LIBNVML");
    if (!path || !*path) path = "libnvidia-ml.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(reason, reasonlen, "NVML unavailable: %s", dlerror());
        return NULL;
    }
    struct nvml *n = calloc(1, sizeof *n);
    if (!n) {
        dlclose(lib);
        snprintf(reason, reasonlen, "NVML unavailable: out of memory");
        return NULL;
    }
    n->lib = lib;
    if (load(n, pci_bus_id, index, reason, reasonlen)) {
        nvml_close(n);
        return NULL;
    }
    return n;
}

/* One key=value of a fake spec; 0, or -1 for an unknown key. */
static int fake_key(struct fake_script *s, unsigned *max, const char *key, size_t klen, const char *val) {
    unsigned long long v = strtoull(val, NULL, 0);
    if (klen == 3 && !strncmp(key, "mhz", 3)) s->mhz = (unsigned)v;
    else if (klen == 3 && !strncmp(key, "max", 3)) *max = (unsigned)v;
    else if (klen == 6 && !strncmp(key, "period", 6)) s->period = (int)v;
    else if (klen == 3 && !strncmp(key, "bad", 3)) s->bad = (int)v;
    else if (klen == 7 && !strncmp(key, "bad_mhz", 7)) s->bad_mhz = (unsigned)v;
    else if (klen == 7 && !strncmp(key, "reasons", 7)) s->reasons = v;
    else return -1;
    return 0;
}

/* Parses spec into s; 0, 1 for "absent", or -1 with reason naming the bad item. */
static int parse_fake(const char *spec, struct fake_script *s, unsigned *max, char *reason, size_t len) {
    *s = (struct fake_script){ 1980, 0, NVML_REASON_HW_SLOWDOWN, 0, 1, 0 };
    *max = 1980;
    for (const char *p = spec ? spec : ""; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        size_t item = strcspn(p, ","), klen = strcspn(p, "=,");
        if (item == 6 && !strncmp(p, "absent", 6)) return 1;
        if (item == 0) continue;
        if (klen == item || fake_key(s, max, p, klen, p + klen + 1)) {
            snprintf(reason, len, "NVML unavailable: fake spec item '%.*s' is not key=value with a known key", (int)item, p);
            return -1;
        }
    }
    if (!s->bad_mhz) s->bad_mhz = s->mhz / 2;
    return 0;
}

struct nvml *nvml_fake(const char *spec, char *reason, size_t reasonlen) {
    struct fake_script s;
    unsigned max;
    int rc = parse_fake(spec, &s, &max, reason, reasonlen);
    if (rc == 1) snprintf(reason, reasonlen, "NVML unavailable: fake NVML scripted absent");
    struct nvml *n = rc ? NULL : calloc(1, sizeof *n);
    if (!rc && !n) snprintf(reason, reasonlen, "NVML unavailable: out of memory");
    if (!n) return NULL;
    n->fake = 1;
    n->script = s;
    n->max_mhz = max;
    return n;
}

static void fake_read(struct fake_script *s, struct nvml_reading *out) {
    long i = s->reads++;
    int bad = s->period > 0 && i % s->period >= s->period - s->bad;
    out->sm_mhz = bad ? s->bad_mhz : s->mhz;
    out->reasons = bad ? s->reasons : 0;
}

int nvml_read(struct nvml *n, struct nvml_reading *out) {
    memset(out, 0, sizeof *out);
    n->reads++;
    if (n->fake) return fake_read(&n->script, out), 0;
    unsigned long long reasons = 0;
    if (n->clock_info(n->dev, NVML_CLOCK_SM, &out->sm_mhz) != NVML_OK) return out->sm_mhz = 0, -1;
    if (n->reasons && n->reasons(n->dev, &reasons) == NVML_OK) out->reasons = reasons;
    return 0;
}

long nvml_reads(const struct nvml *n) { return n ? n->reads : 0; }
unsigned nvml_max_sm_mhz(const struct nvml *n) { return n ? n->max_mhz : 0; }
const char *nvml_kind(const struct nvml *n) { return n && n->fake ? "fake" : "driver"; }

const char *nvml_reason_names(uint64_t reasons, char *buf, size_t buflen) {
    static const char *names[] = { "gpu_idle", "app_clocks", "sw_power_cap", "hw_slowdown", "sync_boost",
                                   "sw_thermal", "hw_thermal", "hw_power_brake", "display_clocks" };
    size_t off = 0;
    if (buflen) buf[0] = 0;
    for (int i = 0; i < 9; i++)
        if (reasons & (1ULL << i) && off < buflen)
            off += (size_t)snprintf(buf + off, buflen - off, "%s%s", off ? "," : "", names[i]);
    if (reasons >> 9 && off < buflen) snprintf(buf + off, buflen - off, "%s0x%llx", off ? "," : "", (unsigned long long)(reasons >> 9 << 9));
    return buf;
}

void nvml_close(struct nvml *n) {
    if (!n) return;
    if (n->shutdown) n->shutdown();
    if (n->lib) dlclose(n->lib);
    free(n);
}
