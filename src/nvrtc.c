/* nvrtc core (placeholder until its issue lands). */
typedef int htune_nvrtc_placeholder;
