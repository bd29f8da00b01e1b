// codegen/schedule.h: fusion. Decides which values of a batched function are materialized in
// memory and which are computed inline inside their consumers' loops, and groups the work:
//
// 1. Values without the batch dim are hoisted: computed once per call by the prologue (with
//    constant captures, those the captures alone determine once per executable: `fixed`).
// 2. Elementwise, layout and random ops are inlined into their consumers; a value used more
//    than once is materialized when recomputing it would cost more than a load.
// 3. Reductions and contractions are materialized unless their one consumer is elementwise of
//    the same shape (then they run inline, with accumulators in registers).
// 4. A contraction against an unbatched operand vectorizes along that operand's longest free
//    dim: the prologue stores the operand with that dim innermost (packing it once per call;
//    not a row-major parameter whose innermost dim it is already), and the contraction's
//    result is stored with the same dim innermost. Likewise an unbatched parameter met
//    elementwise under a reduction of its innermost dim (distances to a set of points) is
//    packed with its largest kept dim innermost, so the lanes run along that dim.
// 5. The body runs the batch in tiles of samples, small enough that every intermediate of a tile
//    and the tile's batched arguments stay in cache; an intermediate lives in per-thread
//    scratch memory for one tile.
#pragma once

#include <string>
#include <vector>

#include "codegen/target.h"
#include "ir/ir.h"

namespace jit::cg {

// Fixed: a hoisted value that constant captures alone determine, computed once per executable
// (see schedule()'s constant_captures); it lives in a block of its own.
enum class BufKind : uint8_t { Param, Output, Hoisted, Scratch, Fixed };

struct Buffer {
  BufKind kind;
  int index;          // Param/Output: its position; Hoisted/Scratch/Fixed: the slot
  ir::Type type;      // Scratch: `?` stands for the tile
  int64_t offset = 0; // Hoisted/Scratch/Fixed: byte offset in the block (Scratch: of a whole tile)
  // Hoisted/Scratch/Fixed: the dims in memory order, outermost first (empty: row-major).
  std::vector<int> order;
  // Hoisted/Fixed with an order: the innermost dim's extent in memory when it is padded (0:
  // not). A packed row shorter than a vector register (a 10-output layer's weight, 10 floats)
  // is padded to one register: aligned, each row one cache line.
  int64_t padded_inner = 0;
  // Output: batched, written once and never read back by the kernel (no later group loads
  // it): its stores may stream past the caches.
  bool streamable = false;
};

struct Group {
  ir::ValueId root;  // the value this group computes (a parameter: copied into `buffer`)
  int buffer;        // where it goes
};

struct Schedule {
  std::vector<Buffer> buffers;
  std::vector<int> buffer_of;  // per value: the buffer holding it, or -1 when computed inline
  std::vector<Group> fixed, prologue, body;  // fixed: see schedule()'s constant_captures
  int64_t hoisted_bytes = 0;
  int64_t fixed_bytes = 0;
  int64_t scratch_bytes = 0;   // per tile
  int64_t tile = 0;            // samples per tile (body)
  int64_t output_sample_bytes = 0;  // the batched outputs' bytes per sample
  int num_params = 0, num_outputs = 0;
};

// An op's weight in the fusion decisions: 10 for a transcendental or random op, 100 for a
// reduction or contraction, 0 for layout and sources, 1 otherwise.
int64_t op_cost(ir::OpId op);

// fuse = false stores every value (no inlining): the reference for testing fusion.
// `contiguous`: per parameter (then output), whether its memory is row-major; empty: all are.
// constant_captures (VmapOptions::constant_captures): the prologue's groups whose values come
// from captured tensors and constants alone (no argument, no random draw, no index check, which
// must report a bad index on every call, no unbatched output, which the prologue writes every
// call) go to `fixed`, their buffers to a block of their own, computed once per executable. The
// others stay per call and may read the fixed values. Such a value met by per-call work is
// stored when computing it costs anything (`exp(b)` under `x + exp(b)` with an unmapped x, or
// in jit::compile's kernels, where every value is per call).
Schedule schedule(const ir::Function& f, const TargetInfo& t, bool fuse = true,
                  const std::vector<bool>& contiguous = {}, bool constant_captures = false);

std::string print(const ir::Function& f, const Schedule& s);

}  // namespace jit::cg
