// Differential test of tandem's FEEL against feelin (the FEEL interpreter of
// Camunda's modelling tools).
//
//   node test/e2e/feel/run.mjs [path/to/tandemctl] [--verbose]
//
// The corpus is cases.jsonl (hand-written, one feature per case) plus the
// cases generate.mjs derives from a fixed seed. Each case is evaluated by
// feelin (the oracle) and by `tandemctl feel`; the results must agree. A case
// may disagree only when a rule of rules.json names its category: the case
// then states FEEL-Scala's value (`scala`) and tandem must give exactly that.
// Prints agreement counts per feature; fails on any other disagreement, when
// divergent cases reach 5% of the corpus, or when fewer than 70% of the cases
// have a non-null result on the oracle.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let feelin;
try {
  feelin = await import('feelin');
} catch (err) {
  console.error('feelin is not installed: run `cd test && npm ci` first');
  process.exit(1);
}

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const tandemctl = args.find((a) => !a.startsWith('--')) ?? join(here, '../../../build/tandemctl');
const rules = JSON.parse(readFileSync(join(here, 'rules.json'), 'utf8'));

function loadCases() {
  const hand = readFileSync(join(here, 'cases.jsonl'), 'utf8')
    .split('\n')
    .map((line, i) => [line.trim(), i + 1])
    .filter(([line]) => line !== '' && !line.startsWith('//'))
    .map(([line, n]) => {
      try {
        return { ...JSON.parse(line), origin: `cases.jsonl:${n}` };
      } catch (err) {
        throw new Error(`cases.jsonl:${n}: ${err.message}`);
      }
    });
  return hand.concat(generate().map((c, i) => ({ ...c, origin: `generated #${i + 1}` })));
}

// The oracle's value as plain JSON: null for anything JSON cannot hold.
function oracle(c) {
  try {
    const r = feelin.evaluate(c.expr, c.vars ?? {});
    return { value: normalise(r.value) };
  } catch (err) {
    return { error: err.message };
  }
}

function normalise(v) {
  if (v === undefined || v === null || typeof v === 'function') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === 'object') {
    // Temporal values compare as their ISO text (tandem prints them so).
    if (['FeelDate', 'FeelTime', 'FeelDateTime', 'FeelDuration'].includes(v.constructor.name)) {
      return String(v);
    }
    if (v.constructor !== Object) return null; // ranges, functions
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalise(x);
    return out;
  }
  return v;
}

function tandem(c) {
  const argv = ['feel', c.expr];
  if (c.vars) argv.push('--vars', JSON.stringify(c.vars));
  const r = spawnSync(tandemctl, argv, { encoding: 'utf8', timeout: 10000 });
  if (r.error) throw new Error(`${tandemctl}: ${r.error.message}`);
  if (r.status !== 0) return { error: r.stderr.trim(), text: null };
  const text = r.stdout.trim();
  return { value: JSON.parse(text), text };
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (typeof a === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

// Predicates of the divergence categories named in rules.json.
const predicates = {
  // feelin computes with binary doubles; FEEL-Scala with 34-digit decimals.
  'binary-doubles': (mine, theirs) => closeNumbers(mine, theirs),
  // feelin does not know the function: null, or a parse error.
  'oracle-lacks-function': (mine, theirs, theirsError) => theirs === null || theirsError !== undefined,
};

function closeNumbers(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => closeNumbers(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => closeNumbers(a[k], b[k]));
  }
  return a === b;
}

const cases = loadCases();
const perFeature = new Map();
let agree = 0, divergent = 0, nonNull = 0;
const failures = [];
for (const c of cases) {
  const f = perFeature.get(c.feature) ?? { agree: 0, divergent: 0, failed: 0 };
  perFeature.set(c.feature, f);
  const theirs = oracle(c);
  const mine = tandem(c);
  if (theirs.value !== null && theirs.value !== undefined) nonNull++;
  const bothErrors = theirs.error !== undefined && mine.error !== undefined;
  if (bothErrors || (theirs.error === undefined && mine.error === undefined &&
                     deepEqual(mine.value, theirs.value))) {
    if (c.scala !== undefined && mine.text !== c.scala) {
      failures.push({ c, why: `agrees with feelin but the case states FEEL-Scala gives ${c.scala}`, mine, theirs });
      f.failed++;
      continue;
    }
    agree++;
    f.agree++;
    continue;
  }
  const rule = rules.find((r) => r.category === c.divergence);
  if (rule && c.scala !== undefined && mine.text === c.scala &&
      (predicates[rule.predicate] ?? (() => false))(mine.value, theirs.value ?? null, theirs.error)) {
    divergent++;
    f.divergent++;
    continue;
  }
  f.failed++;
  failures.push({ c, why: rule ? `divergence '${c.divergence}' does not hold` : 'results differ', mine, theirs });
}

console.log('feature                  agree  divergent  failed');
for (const [name, f] of [...perFeature].sort()) {
  console.log(`${name.padEnd(24)} ${String(f.agree).padStart(5)}  ${String(f.divergent).padStart(9)}  ${String(f.failed).padStart(6)}`);
}
const total = cases.length;
console.log(`total ${total}: agree ${agree}, divergent ${divergent} (${(100 * divergent / total).toFixed(1)}%), ` +
            `failed ${failures.length}; oracle non-null ${(100 * nonNull / total).toFixed(1)}%`);
for (const { c, why, mine, theirs } of failures.slice(0, verbose ? failures.length : 30)) {
  console.log(`FAIL ${c.origin} [${c.feature}] ${c.expr}${c.vars ? ' vars ' + JSON.stringify(c.vars) : ''}\n` +
              `     ${why}: tandem ${mine.error ?? mine.text}, feelin ${theirs.error ?? JSON.stringify(theirs.value)}`);
}
let ok = failures.length === 0;
if (total < 2000) { console.log(`corpus has ${total} cases, fewer than 2000`); ok = false; }
if (divergent * 20 >= total) { console.log('divergent cases reach 5% of the corpus'); ok = false; }
if (nonNull * 10 < total * 7) { console.log('fewer than 70% of the cases are non-null on the oracle'); ok = false; }
process.exit(ok ? 0 : 1);
