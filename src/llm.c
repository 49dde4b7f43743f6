/* llm core (placeholder until its issue lands). */
typedef int htune_llm_placeholder;
