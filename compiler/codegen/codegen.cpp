// codegen/codegen.cpp: module emission.
#include "codegen/codegen.h"

#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include "codegen/emitter.h"
#include "jit/error.h"

namespace jit::cg {

void emit_module(const ir::Function& f, const Schedule& s, const TargetInfo& t,
                 const std::vector<bool>& contiguous, const std::string& name, llvm::Module& m) {
  Emitter e(f, s, t, contiguous, m);
  e.emit(name);
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(m, &os))
    throw Error(ErrorKind::Compile, "internal error: invalid LLVM IR for '" + f.name + "': " + err);
}

}  // namespace jit::cg
