/* bench core (placeholder until its issue lands). */
typedef int htune_bench_placeholder;
