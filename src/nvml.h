/* The SM clock of one GPU through NVML (libnvidia-ml.so.1 opened with dlopen, no link-time
 * dependency), or through a scripted CPU fake, so the bench loop can discard samples taken
 * at throttled clocks. NVML missing is never an error: nvml_open returns NULL and a reason,
 * and the bench loop runs without clock checks. */
#ifndef HTUNE_NVML_H
#define HTUNE_NVML_H
#include <stddef.h>
#include <stdint.h>

/* Clock event ("throttle") reason bits, as nvml.h defines them. */
#define NVML_REASON_GPU_IDLE        0x001ULL
#define NVML_REASON_APP_CLOCKS      0x002ULL
#define NVML_REASON_SW_POWER_CAP    0x004ULL
#define NVML_REASON_HW_SLOWDOWN     0x008ULL
#define NVML_REASON_SYNC_BOOST      0x010ULL
#define NVML_REASON_SW_THERMAL      0x020ULL
#define NVML_REASON_HW_THERMAL      0x040ULL
#define NVML_REASON_HW_POWER_BRAKE  0x080ULL
#define NVML_REASON_DISPLAY_CLOCKS  0x100ULL
/* Reasons that do not mark a sample as throttled: idle between rounds, a fixed application clock. */
#define NVML_REASONS_BENIGN (NVML_REASON_GPU_IDLE | NVML_REASON_APP_CLOCKS)

struct nvml;

/* One reading of the device: current SM clock (MHz) and the reason bits (0 when the driver
 * cannot say). */
struct nvml_reading { unsigned sm_mhz; uint64_t reasons; };

/* Opens libnvidia-ml.so.1 (or $HTUNE_LIBNVML), initializes it and finds the device by PCI bus
 * id ("0000:3b:00.0", as CUDA reports it), or by index when pci_bus_id is NULL or not found.
 * Returns the handle, or NULL with reason filled ("NVML unavailable: ..."). */
struct nvml *nvml_open(const char *pci_bus_id, int index, char *reason, size_t reasonlen);

/* A fake device scripted by spec, a comma list of key=value (all optional):
 *   mhz=1980            steady SM clock          max=1980       rated max SM clock
 *   period=0 bad=1      reading i is throttled when period > 0 and i % period >= period - bad
 *   bad_mhz=990         clock of a throttled reading (may equal mhz: reasons alone)
 *   reasons=0x8         reason bits of a throttled reading (hex or decimal)
 *   absent              behave as if NVML were missing
 * Readings count nvml_read calls from 0. NULL with reason for "absent" or a bad spec. */
struct nvml *nvml_fake(const char *spec, char *reason, size_t reasonlen);

/* Reads the current SM clock and reasons. 0, or -1 when NVML failed (reading zeroed). */
int nvml_read(struct nvml *n, struct nvml_reading *out);

/* Readings taken so far (nvml_read calls). */
long nvml_reads(const struct nvml *n);

/* Rated maximum SM clock (MHz) read at open; 0 when unknown. */
unsigned nvml_max_sm_mhz(const struct nvml *n);

/* "driver" or "fake". */
const char *nvml_kind(const struct nvml *n);

/* Names the reason bits set in `reasons`, comma-separated ("sw_power_cap,hw_slowdown"), into buf. */
const char *nvml_reason_names(uint64_t reasons, char *buf, size_t buflen);

/* Shuts NVML down (when it was opened) and frees n. NULL is fine. */
void nvml_close(struct nvml *n);
#endif
