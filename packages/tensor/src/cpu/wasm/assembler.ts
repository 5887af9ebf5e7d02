/**
 * A tiny WebAssembly byte emitter: just enough of the binary format to write one module with a few
 * functions, one memory and SIMD instructions, by hand, without a toolchain.
 *
 * A module is the 8-byte header followed by sections; each section is its id, its length in bytes and
 * its contents. Numbers are LEB128: 7 bits per byte, low bits first, the top bit saying "more bytes
 * follow" (signed LEB128 also sign-extends from the last byte's bit 6). A function body is a list of
 * local declarations and then instructions for a stack machine, closed by `end`.
 * The format is specified at https://webassembly.github.io/spec/core/binary/.
 */

/** Value types. */
export const I32 = 0x7f;
export const V128 = 0x7b;

/** Plain opcodes (one byte each). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, br: 0x0c, brIf: 0x0d, end: 0x0b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Eqz: 0x45, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74,
} as const;

/** SIMD opcodes: each is written as the prefix 0xfd followed by this number in LEB128. */
export const Simd = {
  v128Load: 0x00, v128Load32Splat: 0x09, v128Store: 0x0b, v128Const: 0x0c,
  f32x4Abs: 0xe0, f32x4Add: 0xe4, f32x4Mul: 0xe6,
  /** Relaxed SIMD: a·b + c, fused (one rounding) where the hardware has FMA, else mul then add. */
  f32x4RelaxedMadd: 0x105,
} as const;

const SIMD_PREFIX = 0xfd;
/** Block type of a block or loop that leaves nothing on the stack. */
const EMPTY = 0x40;

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A name: its UTF-8 length, then its bytes (ASCII here). */
function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
}

/** A vector: its length, then the items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

/**
 * Instructions of one function body, appended by chained calls so that the emitting code reads like
 * the WebAssembly text format: `f.get(x).i32(4).op(Op.i32Add).set(x)` is `x = x + 4`.
 */
export class Code {
  readonly bytes: number[] = [];
  op(opcode: number): this { this.bytes.push(opcode); return this; }
  get(local: number): this { return this.op(Op.localGet).imm(local); }
  set(local: number): this { return this.op(Op.localSet).imm(local); }
  tee(local: number): this { return this.op(Op.localTee).imm(local); }
  i32(value: number): this { this.bytes.push(Op.i32Const, ...sleb(value)); return this; }
  /** `local += value` for an i32 local. */
  addTo(local: number, value: number): this { return this.get(local).i32(value).op(Op.i32Add).set(local); }
  simd(opcode: number): this { this.bytes.push(SIMD_PREFIX, ...uleb(opcode)); return this; }
  /** A SIMD memory access: opcode, then the alignment (log2 bytes) and a constant byte offset. */
  mem(opcode: number, alignLog2: number, offset: number): this {
    this.simd(opcode);
    this.bytes.push(...uleb(alignLog2), ...uleb(offset));
    return this;
  }
  /** v128.const: four f32 lanes of `value`. */
  f32x4(value: number): this {
    this.simd(Simd.v128Const);
    this.bytes.push(...new Uint8Array(new Float32Array([value, value, value, value]).buffer));
    return this;
  }
  /** v128.const 0: four f32 zeros. */
  zero(): this { this.simd(Simd.v128Const); this.bytes.push(...new Array<number>(16).fill(0)); return this; }
  /** `do { body } while (--counter !== 0)`: the body runs `counter` times, which must be ≥ 1. */
  countdown(counter: number, body: (code: this) => void): this {
    this.bytes.push(Op.loop, EMPTY);
    body(this);
    this.get(counter).i32(1).op(Op.i32Sub).tee(counter).op(Op.brIf).imm(0);
    return this.op(Op.end);
  }
  /** `if (local !== 0) { then } else { otherwise }`, leaving nothing on the stack. */
  ifElse(condition: number, then: (code: this) => void, otherwise: (code: this) => void): this {
    this.get(condition).op(Op.if).op(EMPTY);
    then(this);
    this.op(Op.else);
    otherwise(this);
    return this.op(Op.end);
  }
  private imm(value: number): this { this.bytes.push(...uleb(value)); return this; }
}

/** One exported function: its i32 parameters, its extra locals and its body. */
export interface FunctionDef {
  name: string;
  params: number;
  locals: Array<{ count: number; type: number }>;
  code: Code;
}

/**
 * The bytes of a module with one memory of `pages` 64 KiB pages, exported as "memory", and the given
 * functions, each with only i32 parameters and no result, exported under their names.
 */
export function moduleBytes(functions: FunctionDef[], pages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(new Array<number[]>(f.params).fill([I32])), ...vec([])]);
  const bodies = functions.map((f) => {
    const body = [...vec(f.locals.map((l) => [...uleb(l.count), l.type])), ...f.code.bytes, Op.end];
    return [...uleb(body.length), ...body];
  });
  const exported = [
    [...name('memory'), 0x02, 0],
    ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
    ...section(1, vec(types)),                       // type section: one signature per function
    ...section(3, vec(functions.map((_, i) => uleb(i)))), // function section: function i has type i
    ...section(5, vec([[0x00, ...uleb(pages)]])),    // memory section: one memory, minimum size only
    ...section(7, vec(exported)),                     // export section
    ...section(10, vec(bodies)),                     // code section
  ]);
}
