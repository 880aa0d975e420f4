import { tokenizePolish } from '../graph/polish.js';
import { UserError } from '../util/errors.js';

/** A parsed Polish-notation expression. */
export type Expr = string | { op: string; args: Expr[] };

/** Parse "(op a b)" into an expression tree (iterative: depth is bounded only by memory). */
export function parseExpr(text: string): Expr {
  const tokens = tokenizePolish(text);
  if (tokens.length === 0) throw new UserError('polish: empty expression');
  const stack: Array<{ op: string; args: Expr[] }> = [];
  let result: Expr | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let done: Expr | undefined;
    if (t === '(') {
      const head = tokens[++i];
      if (head === undefined || head === '(' || head === ')') throw new UserError(`polish: "(" must be followed by an operator in ${JSON.stringify(text)}`);
      stack.push({ op: head, args: [] });
      continue;
    } else if (t === ')') {
      done = stack.pop();
      if (!done) throw new UserError(`polish: unbalanced ")" in ${JSON.stringify(text)}`);
    } else {
      done = t;
    }
    const top = stack[stack.length - 1];
    if (top) top.args.push(done);
    else if (result === undefined) result = done;
    else throw new UserError(`polish: more than one expression in ${JSON.stringify(text)}`);
  }
  if (stack.length > 0 || result === undefined) throw new UserError(`polish: unclosed "(" in ${JSON.stringify(text)}`);
  return result;
}

/** Canonical text of an expression: "(op a b)". */
export function exprText(e: Expr): string {
  return typeof e === 'string' ? e : `(${e.op} ${e.args.map(exprText).join(' ')})`;
}

/**
 * Evaluate an expression numerically: + - * / ^ sqrt abs exp sin cos, `let` bindings, `d/dx`
 * (central difference at the bound `x`) and `solve` of an equation linear in its symbol. It
 * checks generated targets independently of how the generator built them.
 */
export function evaluateExpr(e: Expr, env: Record<string, number> = {}): number {
  if (typeof e === 'string') {
    if (e in env) return env[e]!;
    const v = Number(e);
    if (!Number.isFinite(v)) throw new UserError(`polish: unknown symbol ${JSON.stringify(e)}`);
    return v;
  }
  const a = e.args;
  const ev = (x: Expr, extra: Record<string, number> = {}): number => evaluateExpr(x, { ...env, ...extra });
  switch (e.op) {
    case '+':
      return a.reduce((s, x) => s + ev(x), 0);
    case '*':
      return a.reduce((s, x) => s * ev(x), 1);
    case '-':
      return a.length === 1 ? -ev(a[0]!) : ev(a[0]!) - a.slice(1).reduce((s, x) => s + ev(x), 0);
    case '/':
      return ev(a[0]!) / ev(a[1]!);
    case '^':
      return Math.pow(ev(a[0]!), ev(a[1]!));
    case 'sqrt':
      return Math.sqrt(ev(a[0]!));
    case 'abs':
      return Math.abs(ev(a[0]!));
    case 'exp':
      return Math.exp(ev(a[0]!));
    case 'sin':
      return Math.sin(ev(a[0]!));
    case 'cos':
      return Math.cos(ev(a[0]!));
    case 'let': {
      const name = a[0];
      if (typeof name !== 'string') throw new UserError('polish: let needs a symbol');
      return ev(a[2]!, { [name]: ev(a[1]!) });
    }
    case 'd/dx': {
      const x = env.x ?? 0;
      const h = 1e-5;
      return (ev(a[0]!, { x: x + h }) - ev(a[0]!, { x: x - h })) / (2 * h);
    }
    case 'solve': {
      // (solve (= lhs rhs) x) with lhs − rhs linear in x.
      const eq = a[0];
      const v = a[1];
      if (typeof eq === 'string' || eq?.op !== '=' || typeof v !== 'string') throw new UserError('polish: solve needs (= lhs rhs) and a symbol');
      const f = (t: number): number => ev(eq.args[0]!, { [v]: t }) - ev(eq.args[1]!, { [v]: t });
      const f0 = f(0);
      const slope = f(1) - f0;
      return -f0 / slope + 0; // + 0 turns −0 into 0
    }
    default:
      throw new UserError(`polish: unknown operator ${JSON.stringify(e.op)}`);
  }
}
