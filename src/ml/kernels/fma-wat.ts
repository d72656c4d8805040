// The multiply-add every kernel's inner loop is made of, in the two forms the engines run.

/** How the kernels multiply and add. */
export type FmaKind =
  /** f32x4.relaxed_madd: one fused multiply-add where the CPU has one (Chromium ≥ 114, Node ≥ 22). */
  | 'relaxed'
  /** f32x4.mul then f32x4.add: plain SIMD, for engines without relaxed SIMD. */
  | 'mulAdd';

/** `accumulator + a · b`, four lanes. */
export function multiplyAdd(fma: FmaKind, a: string, b: string, accumulator: string): string {
  return fma === 'relaxed' ? `(f32x4.relaxed_madd ${a} ${b} ${accumulator})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${accumulator})`;
}
