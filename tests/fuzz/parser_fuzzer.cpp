// tests/fuzz/parser_fuzzer.cpp: the libFuzzer target on the textual IR parser and verifier.
// Any bytes give a clean jit::Error or valid functions, which verify and print back to equal
// functions; never a crash, a hang or a leak (ASan and UBSan watch, libFuzzer times out).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ir/text.h"
#include "ir/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const jit::ir::Function& f : jit::ir::parse(text, "fuzz")) {
      jit::ir::verify(f);
      if (!(jit::ir::parse_function(jit::ir::print(f)) == f)) std::abort();  // round trip
    }
  } catch (const jit::Error&) {
  }
  return 0;
}
