/* wserve: being written (issue 5). */
typedef int htune_wserve_placeholder;
