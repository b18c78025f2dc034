//===- ElfCheck.h - Validate a model library before dlopen ------*- C++ -*-===//
//
// Part of Tessera. dlopen maps a library's segments and trusts its headers:
// a library cut short dies with SIGBUS inside the loader, and a foreign one
// runs its constructors before anyone can tell it is not a model. These
// checks read the file's ELF headers first, never past its end.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_ELFCHECK_H
#define TESSERA_RUNTIME_ELFCHECK_H

#include <cstddef>
#include <string>

namespace tessera::runtime {

/// What checkElf found wrong, if anything.
struct ElfProblem {
  enum Kind { None, Malformed, NoSymbol } kind = None;
  std::string message; ///< lowercase, without the file name
};

/// Checks an ELF image of `size` bytes: a 64-bit shared object for this
/// machine whose program headers, segments, section headers and sections lie
/// inside the image, and whose dynamic symbol table defines `symbol`.
ElfProblem checkElfImage(const unsigned char *data, size_t size,
                         const char *symbol);

/// Maps the regular file at `path` read-only and checks it with
/// checkElfImage.
ElfProblem checkElfFile(const std::string &path, const char *symbol);

} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_ELFCHECK_H
