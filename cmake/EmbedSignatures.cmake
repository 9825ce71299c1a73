# Generates OUT (a .cc) holding every DIR/*.toml as a table of {name, data, size}, so that the
# signature data ships inside the binary. Run at build time: -DDIR=... -DOUT=... -P this file.
file(GLOB files "${DIR}/*.toml")
list(SORT files)
set(body "")
set(count 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" text)
  string(FIND "${text}" ")fwsig\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "${f}: contains the raw-string delimiter )fwsig\"")
  endif()
  string(LENGTH "${text}" len)
  string(APPEND body "  {\"${name}\", R\"fwsig(${text})fwsig\", ${len}},\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  set(body "  {nullptr, nullptr, 0},\n")
endif()
set(out "// Generated from data/signatures/*.toml by cmake/EmbedSignatures.cmake. Do not edit.
#include <cstddef>
namespace firmwarden::identify::signatures {
struct EmbeddedFile {
  const char* name;
  const char* data;
  size_t size;
};
extern const EmbeddedFile kEmbeddedSignatures[];
extern const size_t kEmbeddedSignatureCount;
const EmbeddedFile kEmbeddedSignatures[] = {
${body}};
const size_t kEmbeddedSignatureCount = ${count};
}  // namespace firmwarden::identify::signatures
")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL out)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${out}")
