/* rng core (placeholder until its issue lands). */
typedef int htune_rng_placeholder;
