/* cuda core (placeholder until its issue lands). */
typedef int htune_cuda_placeholder;
