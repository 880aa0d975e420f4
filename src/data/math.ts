import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

/** A GRAPHEME-Math record, as the dataset files hold it. */
export interface MathRecord {
  id: string;
  input_polish: string;
  expected_result?: number;
  expected_symbolic?: string;
  level: number;
  bindings?: Record<string, number>;
}

export const MATH_LEVELS = [1, 2, 3, 4, 5, 6, 7] as const;

/** The model's input text for a record: the expression, wrapped in `(let name value …)` per binding. */
export function mathInputText(r: MathRecord): string {
  let text = r.input_polish;
  const names = Object.keys(r.bindings ?? {}).sort().reverse();
  for (const name of names) text = `(let ${name} ${decimal(r.bindings![name]!)} ${text})`;
  return text;
}

/** The target text: the symbolic result if present, else the shortest decimal form of the number. */
export function mathTargetText(r: MathRecord): string {
  if (r.expected_symbolic !== undefined) return r.expected_symbolic;
  if (r.expected_result === undefined) throw new UserError(`math record ${r.id} has neither expected_result nor expected_symbolic`);
  return decimal(r.expected_result);
}

/** Shortest decimal that reads back as the same double ("25", "-3", "0.5"). */
export function decimal(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

type Draft = Omit<MathRecord, 'id' | 'level'>;

const ARITH1 = ['+', '-', '*'] as const;
const ARITH2 = ['+', '-', '*', '/'] as const;

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return a / b;
  }
}

function level1(rng: Rng): Draft {
  const op = rng.pick(ARITH1);
  const a = rng.int(1, 20);
  const b = rng.int(1, 20);
  return { input_polish: `(${op} ${a} ${b})`, expected_result: apply(op, a, b) };
}

function level2(rng: Rng): Draft {
  // ((a op1 b) op2 c) with every intermediate and final result an integer.
  for (;;) {
    const op1 = rng.pick(ARITH2);
    const op2 = rng.pick(ARITH2);
    const a = rng.int(1, 20);
    const b = rng.int(1, 20);
    const c = rng.int(1, 20);
    const inner = apply(op1, a, b);
    const result = apply(op2, inner, c);
    if (Number.isInteger(inner) && Number.isInteger(result)) {
      return { input_polish: `(${op2} (${op1} ${a} ${b}) ${c})`, expected_result: result };
    }
  }
}

function level3(rng: Rng): Draft {
  const name = rng.pick(['x', 'y', 'n']);
  const value = rng.int(1, 20);
  const op = rng.pick(ARITH1);
  const b = rng.int(1, 20);
  const symbolFirst = rng.next() < 0.5;
  const input = symbolFirst ? `(${op} ${name} ${b})` : `(${op} ${b} ${name})`;
  const result = symbolFirst ? apply(op, value, b) : apply(op, b, value);
  return { input_polish: input, expected_result: result, bindings: { [name]: value } };
}

function level4(rng: Rng): Draft {
  const kind = rng.pick(['sqrt', 'abs', 'exp'] as const);
  let inner: string;
  let value: number;
  if (kind === 'sqrt') {
    const r = rng.int(1, 15);
    inner = `(sqrt ${r * r})`;
    value = r;
  } else if (kind === 'abs') {
    const v = rng.int(-20, 20);
    inner = `(abs ${v})`;
    value = Math.abs(v);
  } else {
    inner = '(exp 0)';
    value = 1;
  }
  if (rng.next() < 0.5) return { input_polish: inner, expected_result: value };
  const op = rng.pick(ARITH1);
  const b = rng.int(1, 20);
  return { input_polish: `(${op} ${inner} ${b})`, expected_result: apply(op, value, b) };
}

/** Functions of levels 5 and 6 with their derivative and antiderivative, canonical Polish. */
function calculusPair(rng: Rng): { f: string; df: string; F: string } {
  const kind = rng.pick(['power', 'linear', 'sin', 'cos', 'exp'] as const);
  switch (kind) {
    case 'power': {
      const n = rng.int(2, 9);
      return {
        f: `(^ x ${n})`,
        df: n - 1 === 1 ? `(* ${n} x)` : `(* ${n} (^ x ${n - 1}))`,
        F: `(/ (^ x ${n + 1}) ${n + 1})`,
      };
    }
    case 'linear': {
      const a = rng.int(2, 9);
      const b = rng.int(1, 20);
      return { f: `(+ (* ${a} x) ${b})`, df: `${a}`, F: `(+ (/ (* ${a} (^ x 2)) 2) (* ${b} x))` };
    }
    case 'sin':
      return { f: '(sin x)', df: '(cos x)', F: '(- (cos x))' };
    case 'cos':
      return { f: '(cos x)', df: '(- (sin x))', F: '(sin x)' };
    default:
      return { f: '(exp x)', df: '(exp x)', F: '(exp x)' };
  }
}

function level5(rng: Rng): Draft {
  const p = calculusPair(rng);
  return { input_polish: `(d/dx ${p.f})`, expected_symbolic: p.df };
}

function level6(rng: Rng): Draft {
  const p = calculusPair(rng);
  return { input_polish: `(integrate ${p.f})`, expected_symbolic: p.F };
}

function level7(rng: Rng): Draft {
  const a = rng.int(2, 9);
  const x = rng.int(-10, 10);
  const b = rng.int(1, 20);
  return { input_polish: `(solve (= (+ (* ${a} x) ${b}) ${a * x + b}) x)`, expected_result: x };
}

const LEVELS: Record<number, (rng: Rng) => Draft> = { 1: level1, 2: level2, 3: level3, 4: level4, 5: level5, 6: level6, 7: level7 };

/** One GRAPHEME-Math record of the given curriculum level (1–7). */
export function mathRecord(rng: Rng, level: number, id: string): MathRecord {
  const gen = LEVELS[level];
  if (!gen) throw new UserError(`math level must be an integer from 1 to 7, got ${level}`);
  return { id, level, ...gen(rng) };
}
