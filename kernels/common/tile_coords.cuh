// The tile order both matmul templates share (the seed's pid_type / l2_grouping / loop_order):
// listed in their specs' `source_files` after fp16.cuh, included by kbench and wgbench.
// Tile t of tm x tn tiles -> (pm, pn). group consecutive tiles along the major dimension share
// their minor-dimension operand in L2 (Triton's grouped ordering); order 1 swaps M and N.
// tile_coords<GROUP, ORDER>(t, tm, tn, group, order, ...): GROUP > 0 compiles GROUP and ORDER in
// and ignores group and order; GROUP 0 takes group and order at run time (kernel arguments, so
// configs that differ only there share one compiled kernel). Both run tile_coords_rt.
__device__ __forceinline__ void tile_coords_rt(int t, int tm, int tn, int group, int order, int& pm, int& pn) {
  int a = order == 0 ? tm : tn, b = order == 0 ? tn : tm;
  int width = group * b;
  int first = (t / width) * group;
  int gsz = min(a - first, group);
  int i = first + (t % width) % gsz, j = (t % width) / gsz;
  pm = order == 0 ? i : j;
  pn = order == 0 ? j : i;
}
template <int GROUP, int ORDER>
__device__ __forceinline__ void tile_coords(int t, int tm, int tn, int group, int order, int& pm, int& pn) {
  if constexpr (GROUP > 0) tile_coords_rt(t, tm, tn, GROUP, ORDER, pm, pn);
  else tile_coords_rt(t, tm, tn, group, order, pm, pn);
}
