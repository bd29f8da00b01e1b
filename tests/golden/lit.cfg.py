# tests/golden/lit.cfg.py: golden IR tests. Each .jir or .test file here holds RUN lines that
# drive vmapjit-dump (or the seeds' tracing program) and FileCheck the lines that matter.
# The ctest test `golden` (tests/CMakeLists.txt) passes the tools' paths as lit parameters.
import os

import lit.formats

config.name = "vmapjit-golden"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".jir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = lit_config.params.get("exec_root", os.path.join(config.test_source_root, "..", "..", "build", "golden"))


def tool(param, default):
    path = lit_config.params.get(param, default)
    if not os.path.exists(path):
        lit_config.fatal(f"{param}: {path} does not exist (pass --param {param}=PATH)")
    return path


llvm_bin = "/usr/lib/llvm-19/bin"
config.substitutions.append(("%dump", tool("dump", "vmapjit-dump")))
config.substitutions.append(("%trace_seeds", tool("trace_seeds", "trace_seeds")))
config.substitutions.append(("%expect_exit", "python3 " + os.path.join(config.test_source_root, "Inputs", "expect_exit.py")))
config.substitutions.append(("FileCheck", tool("filecheck", os.path.join(llvm_bin, "FileCheck"))))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
# Tests see no diagnostics variables but the ones they set.
for var in ("VMAPJIT_DUMP", "VMAPJIT_LOG"):
    config.environment.pop(var, None)

# Features of the host, whose vector width the compiled code takes: `REQUIRES: avx512`; and its
# architecture (x86's streaming stores): `REQUIRES: x86`.
if os.uname().machine == "x86_64":
    config.available_features.add("x86")
with open("/proc/cpuinfo") as cpuinfo:
    if " avx512f" in cpuinfo.read():
        config.available_features.add("avx512")
