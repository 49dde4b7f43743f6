// The tile order both matmul templates share (the seed's pid_type / l2_grouping / loop_order):
// listed in their specs' `source_files` after fp16.cuh, included by kbench and wgbench.
// Tile t of tm x tn tiles -> (pm, pn). GROUP consecutive tiles along the major dimension share
// their minor-dimension operand in L2 (Triton's grouped ordering); ORDER 1 swaps M and N.
template <int GROUP, int ORDER>
__device__ __forceinline__ void tile_coords(int t, int tm, int tn, int& pm, int& pn) {
  int a = ORDER == 0 ? tm : tn, b = ORDER == 0 ? tn : tm;
  int width = GROUP * b;
  int first = (t / width) * GROUP;
  int gsz = min(a - first, GROUP);
  int i = first + (t % width) % gsz, j = (t % width) / gsz;
  pm = ORDER == 0 ? i : j;
  pn = ORDER == 0 ? j : i;
}
