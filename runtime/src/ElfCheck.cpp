//===- ElfCheck.cpp - Validate a model library before dlopen --------------===//

#include "ElfCheck.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera::runtime {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#else
#error "unsupported host machine"
#endif

ElfProblem malformed(std::string why) {
  return {ElfProblem::Malformed, std::move(why)};
}

/// [offset, offset + count * entSize) lies within `size` (no overflow).
bool inFile(uint64_t offset, uint64_t count, uint64_t entSize, uint64_t size) {
  if (entSize && count > size / entSize)
    return false;
  uint64_t bytes = count * entSize;
  return offset <= size && bytes <= size - offset;
}

/// Reads a T at `offset` (bounds checked by the caller) without assuming
/// alignment.
template <typename T> T read(const unsigned char *data, uint64_t offset) {
  T v;
  std::memcpy(&v, data + offset, sizeof(T));
  return v;
}

ElfProblem checkHeader(const Elf64_Ehdr &eh, uint64_t size) {
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return malformed("it is not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_ident[EI_VERSION] != EV_CURRENT)
    return malformed("it is not a 64-bit little-endian ELF file");
  if (eh.e_type != ET_DYN)
    return malformed("it is not a shared library (ELF type " +
                     std::to_string(eh.e_type) + ")");
  if (eh.e_machine != kMachine)
    return malformed("it is for another machine (ELF machine " +
                     std::to_string(eh.e_machine) + ")");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phnum == PN_XNUM)
    return malformed("its program header table is malformed");
  if (!inFile(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr), size))
    return malformed("its program headers run past the end of the file "
                     "(truncated?)");
  if (eh.e_shnum && (eh.e_shentsize != sizeof(Elf64_Shdr) ||
                     !inFile(eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr), size)))
    return malformed("its section headers run past the end of the file "
                     "(truncated?)");
  return {};
}

ElfProblem checkSegments(const unsigned char *data, const Elf64_Ehdr &eh,
                         uint64_t size) {
  bool load = false, dynamic = false;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    auto ph = read<Elf64_Phdr>(data, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (!inFile(ph.p_offset, 1, ph.p_filesz, size))
      return malformed("segment " + std::to_string(i) +
                       " runs past the end of the file (truncated?)");
    if (ph.p_type == PT_LOAD) {
      load = true;
      if (ph.p_filesz > ph.p_memsz)
        return malformed("segment " + std::to_string(i) +
                         " is larger in the file than in memory");
      if (ph.p_align > 1 && (ph.p_align & (ph.p_align - 1)) != 0)
        return malformed("segment " + std::to_string(i) +
                         " has an alignment that is not a power of two");
    }
    dynamic |= ph.p_type == PT_DYNAMIC;
  }
  if (!load || !dynamic)
    return malformed("it has no loadable or no dynamic segment");
  return {};
}

/// Checks every section and looks for `symbol` in the dynamic symbol table.
ElfProblem checkSections(const unsigned char *data, const Elf64_Ehdr &eh,
                         uint64_t size, const char *symbol) {
  if (eh.e_shnum == 0)
    return malformed("it has no section headers");
  auto section = [&](uint32_t i) {
    return read<Elf64_Shdr>(data, eh.e_shoff + i * sizeof(Elf64_Shdr));
  };
  bool found = false;
  for (uint16_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh = section(i);
    if (sh.sh_type != SHT_NOBITS && !inFile(sh.sh_offset, 1, sh.sh_size, size))
      return malformed("section " + std::to_string(i) +
                       " runs past the end of the file (truncated?)");
    if (sh.sh_type != SHT_DYNSYM || found)
      continue;
    if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh.e_shnum)
      return malformed("its dynamic symbol table is malformed");
    Elf64_Shdr strtab = section(sh.sh_link);
    if (strtab.sh_type != SHT_STRTAB ||
        !inFile(strtab.sh_offset, 1, strtab.sh_size, size))
      return malformed("its dynamic string table is malformed");
    const char *strings =
        reinterpret_cast<const char *>(data + strtab.sh_offset);
    size_t nameLen = std::strlen(symbol);
    for (uint64_t s = 0; s < sh.sh_size / sizeof(Elf64_Sym); ++s) {
      auto sym = read<Elf64_Sym>(data, sh.sh_offset + s * sizeof(Elf64_Sym));
      if (sym.st_name >= strtab.sh_size ||
          strtab.sh_size - sym.st_name < nameLen + 1)
        continue;
      if (std::memcmp(strings + sym.st_name, symbol, nameLen + 1) == 0 &&
          sym.st_shndx != SHN_UNDEF &&
          ELF64_ST_TYPE(sym.st_info) == STT_OBJECT &&
          ELF64_ST_BIND(sym.st_info) == STB_GLOBAL)
        found = true;
    }
  }
  if (!found)
    return {ElfProblem::NoSymbol,
            std::string("it does not export '") + symbol + "'"};
  return {};
}

} // namespace

ElfProblem checkElfImage(const unsigned char *data, size_t size,
                         const char *symbol) {
  if (size < sizeof(Elf64_Ehdr))
    return malformed(size < SELFMAG || std::memcmp(data, ELFMAG, SELFMAG)
                         ? "it is not an ELF file"
                         : "it is truncated: shorter than an ELF header");
  auto eh = read<Elf64_Ehdr>(data, 0);
  ElfProblem p = checkHeader(eh, size);
  if (p.kind == ElfProblem::None)
    p = checkSegments(data, eh, size);
  if (p.kind == ElfProblem::None)
    p = checkSections(data, eh, size, symbol);
  return p;
}

ElfProblem checkElfFile(const std::string &path, const char *symbol) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return malformed(std::string("cannot be opened: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return malformed("it is not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return malformed("it is empty");
  }
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return malformed(std::string("cannot be mapped: ") + std::strerror(errno));
  ElfProblem p =
      checkElfImage(static_cast<const unsigned char *>(map), size, symbol);
  ::munmap(map, size);
  return p;
}

} // namespace tessera::runtime
