/* A valid shared library that is not a Tessera model: it exports something
   else. */
__attribute__((visibility("default"))) int not_a_tessera_model(void) {
  return 42;
}
