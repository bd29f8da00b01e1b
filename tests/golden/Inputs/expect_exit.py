# tests/golden/Inputs/expect_exit.py: `expect_exit.py CODE CMD ARGS...` runs CMD and succeeds
# only when it exits with CODE (the `not` of LLVM accepts any failure).
import subprocess
import sys

code = int(sys.argv[1])
got = subprocess.run(sys.argv[2:]).returncode
if got != code:
    sys.stderr.write(f"expect_exit: {sys.argv[2]} exited with {got}, expected {code}\n")
    sys.exit(1)
