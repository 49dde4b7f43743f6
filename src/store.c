/* store core (placeholder until its issue lands). */
typedef int htune_store_placeholder;
