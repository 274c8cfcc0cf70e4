"""Compilation options shared by every kernel (numba only).

``nogil`` lets several Python threads run a kernel at once on the same weight buffers
(Hogwild); ``cache`` keeps the compiled code on disk between processes.
"""

#: fastmath subset: lets LLVM vectorise float reductions, keeps NaN/inf semantics intact.
FASTMATH = {"reassoc", "contract", "arcp"}

# error_model="numpy": no per-division zero check (a branch that blocks vectorisation).
# Inner loops index slice views (never ``base + c`` into the whole buffer) so that LLVM
# sees non-negative indices and drops numba's wraparound branch.
JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
