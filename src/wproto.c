/* wproto: being written (issue 5). */
typedef int htune_wproto_placeholder;
