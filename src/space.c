/* space core (placeholder until its issue lands). */
typedef int htune_space_placeholder;
