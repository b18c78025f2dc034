//===- main.cpp - tessera-run: run a compiled model -----------------------===//

#include "tessera/abi.h"

extern "C" int tessera_run_main(int argc, char **argv,
                                const TesseraModelDesc *embedded);

int main(int argc, char **argv) {
  return tessera_run_main(argc, argv, nullptr);
}
