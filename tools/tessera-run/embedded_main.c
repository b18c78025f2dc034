/*===- embedded_main.c - main of an executable with the model inside ------===
 *
 * tessera-compile --emit=exe links this with the model's object file, the
 * tessera-run library and the runtime: the program takes tessera-run's
 * options, without the MODEL argument.
 *
 *===----------------------------------------------------------------------===*/

#include "tessera/abi.h"

extern const TesseraModelDesc tessera_model_v1;
int tessera_run_main(int argc, char **argv, const TesseraModelDesc *embedded);

int main(int argc, char **argv) {
  return tessera_run_main(argc, argv, &tessera_model_v1);
}
