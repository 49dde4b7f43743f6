/* worker: being written (issue 5). */
typedef int htune_worker_placeholder;
