// Generated cases of the FEEL differential test: expressions built from
// templates per feature with values drawn from a fixed seed, so the corpus
// is the same on every run. Where feelin's binary doubles cannot give the
// exact result, the case carries FEEL-Scala's value (`scala`), computed here
// with exact integer arithmetic, under the divergence category
// 'binary-doubles'.

function prng(seed) {
  // mulberry32
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['foo', 'bar', 'baz', 'Camunda', 'order', 'a-b-c', 'x,y,z', ' pad ', 'hello world', 'Ünï', 'Ärger', ''];

export function generate() {
  const rnd = prng(20241130);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = (xs) => xs[int(0, xs.length - 1)];
  // A number as [text, scaled BigInt at 2 decimals].
  const num = () => {
    const cents = BigInt(int(-20000, 20000));
    const places = pick([0, 0, 1, 2]);
    const unit = places === 0 ? 100n : places === 1 ? 10n : 1n;
    const v = (cents / unit) * unit;
    return [fmt(v, 2), v];
  };
  const cases = [];
  const add = (feature, expr, vars, scala) => {
    const c = { feature, expr };
    if (vars) c.vars = vars;
    if (scala !== undefined) { c.scala = scala; c.divergence = 'binary-doubles'; }
    cases.push(c);
  };
  const lit = (t) => (t.startsWith('-') ? `(${t})` : t);

  // arithmetic: exact results through scaled BigInts
  for (let i = 0; i < 300; i++) {
    const [at, a] = num(), [bt, b] = num();
    const op = pick(['+', '-', '*']);
    let exact, scale = 2;
    if (op === '+') exact = a + b;
    else if (op === '-') exact = a - b;
    else { exact = a * b; scale = 4; }
    const text = fmt(exact, scale);
    const js = op === '+' ? Number(at) + Number(bt) : op === '-' ? Number(at) - Number(bt) : Number(at) * Number(bt);
    add('arithmetic', `${lit(at)} ${op} ${lit(bt)}`, null, Number(text) === js ? undefined : text);
  }
  for (let i = 0; i < 60; i++) {
    const a = int(-1000, 1000), b = pick([1, 2, 4, 5, 8, 10, 20, 25, 40, 50]);
    const exact = fmt(BigInt(a) * 10000n / BigInt(b), 4);
    add('arithmetic', `${lit(String(a))} / ${b}`, null, Number(exact) === a / b ? undefined : exact);
  }
  for (let i = 0; i < 40; i++) {
    const a = int(-9, 9), b = int(0, 6);
    add('arithmetic', `${lit(String(a))} ** ${b}`);
  }
  // comparison
  for (let i = 0; i < 160; i++) {
    const op = pick(['<', '<=', '>', '>=', '=', '!=']);
    if (rnd() < 0.7) add('comparison', `${num()[0]} ${op} ${num()[0]}`);
    else add('comparison', `"${pick(WORDS)}" ${op} "${pick(WORDS)}"`);
  }
  for (let i = 0; i < 60; i++) {
    // Bounds in order: feelin accepts reversed bounds, FEEL-Scala does not.
    const [a, x, y] = [int(-50, 50), int(-50, 50), int(-50, 50)];
    const [b, c] = x <= y ? [x, y] : [y, x];
    add('between', `${lit(String(a))} between ${lit(String(b))} and ${lit(String(c))}`);
  }
  // logic
  const bools = ['true', 'false', 'null', '1 < 2', '2 < 1', 'x > 3', 'y = "a"'];
  for (let i = 0; i < 140; i++) {
    const expr = `${pick(bools)} ${pick(['and', 'or'])} ${pick(bools)}${rnd() < 0.4 ? ` ${pick(['and', 'or'])} ${pick(bools)}` : ''}`;
    add('logic', expr, { x: int(0, 6), y: pick(['a', 'b']) });
  }
  // strings
  for (let i = 0; i < 260; i++) {
    const s = pick(WORDS), t = pick(WORDS.concat(['o', 'a', 'ba', '-']));
    const templates = [
      () => `substring("${s}", ${pick([1, 2, 3, -1, -2])})`,
      () => `substring("${s}", ${pick([1, 2, -3])}, ${int(0, 3)})`,
      () => `string length("${s}")`,
      () => `upper case("${s}")`,
      () => `lower case("${s}")`,
      () => `contains("${s}", "${t}")`,
      () => `starts with("${s}", "${t}")`,
      () => `ends with("${s}", "${t}")`,
      () => `substring before("${s}", "${t}")`,
      () => `substring after("${s}", "${t}")`,
      () => `"${s}" + "${t}"`,
      () => `string join(["${s}", "${t}"], "${pick([',', ' ', ''])}")`,
      () => `matches("${s}", "${pick(['^f', 'o+', '[a-z]+', '^$', 'a.c'])}")`,
      () => `split("${pick(['a,b,c', 'x,y', 'abc', 'a,,b'])}", ",")`,
      () => `replace("${s}", "${pick(['o', 'a', '[a-z]'])}", "${pick(['0', '_', ''])}")`,
    ];
    add('string', pick(templates)());
  }
  // lists
  const list = (n) => Array.from({ length: n }, () => int(-20, 20));
  for (let i = 0; i < 300; i++) {
    const xs = list(int(0, 6)), ys = list(int(0, 4));
    const k = int(-20, 20);
    const L = `[${xs.join(', ')}]`;
    const templates = [
      () => `count(${L})`, () => `min(${L})`, () => `max(${L})`, () => `sum(${L})`,
      () => `product(${L})`,
      () => `list contains(${L}, ${k})`, () => `reverse(${L})`, () => `append(${L}, ${k})`,
      () => `concatenate(${L}, [${ys.join(', ')}])`, () => `index of(${L}, ${xs[0] ?? k})`,
      () => `distinct values(${L})`, () => `union(${L}, [${ys.join(', ')}])`,
      () => `flatten([${L}, [${ys.join(', ')}]])`,
      () => `sort(${L}, function(a, b) a < b)`, () => `sublist(${L}, 1, ${int(0, 3)})`,
      () => `mean([${list(pick([1, 2, 4, 5])).join(', ')}])`,
      () => `all(${xs.map((x) => (x > 0 ? 'true' : 'false')).join(', ') || 'true'})`,
      () => `any([${xs.map((x) => (x > 0 ? 'true' : 'false')).join(', ')}])`,
      () => `${L} = [${xs.map((x) => (rnd() < 0.8 ? x : x + 1)).join(', ')}]`,
    ];
    add('list', pick(templates)());
  }
  // filters and paths over variables
  for (let i = 0; i < 240; i++) {
    const items = Array.from({ length: int(1, 5) }, (_, j) => ({ name: `n${j}`, price: int(0, 40), tags: list(int(0, 2)) }));
    const k = int(0, 40);
    const templates = [
      () => `items[price > ${k}].name`,
      () => `items[price <= ${k}]`,
      () => `items.price`,
      () => `items[${pick([1, 2, -1, -2])}].name`,
      () => `count(items[price > ${k}])`,
      () => `sum(items.price)`,
      () => `[${list(int(1, 6)).join(', ')}][item > ${k - 20}]`,
      () => `[${list(int(1, 6)).join(', ')}][${pick([1, 2, -1])}]`,
      () => `{total: sum(items.price)}`,
      () => `order.customer.name`,
      () => `order.lines[qty > 1].sku`,
    ];
    const vars = { items, order: { customer: { name: pick(WORDS) }, lines: [{ sku: 'a', qty: int(0, 3) }, { sku: 'b', qty: int(0, 3) }] } };
    add('filter-path', pick(templates)(), vars);
  }
  // iteration
  for (let i = 0; i < 200; i++) {
    // Ascending ranges not ending at 0: feelin gives null for descending
    // ones and for an end of 0.
    const xs = list(int(0, 5)), k = int(-5, 5), a = int(-3, 5);
    let b = a + int(0, 4);
    if (b === 0) b = 1;
    const templates = [
      () => `for x in [${xs.join(', ')}] return x * ${lit(String(k))}`,
      () => `for x in ${lit(String(a))}..${lit(String(b))} return x + ${lit(String(k))}`,
      () => `for x in [${xs.join(', ')}], y in [1, 2] return x + y`,
      () => `some x in [${xs.join(', ')}] satisfies x > ${lit(String(k))}`,
      () => `every x in [${xs.join(', ')}] satisfies x > ${lit(String(k))}`,
    ];
    add('iteration', pick(templates)());
  }
  // contexts and conditionals
  for (let i = 0; i < 180; i++) {
    const a = int(-9, 9), b = int(-9, 9);
    const templates = [
      () => `{a: ${lit(String(a))}, b: a + ${lit(String(b))}}.b`,
      () => `{a: ${lit(String(a))}, b: {c: ${lit(String(b))}}}`,
      () => `get value({x: ${a}, y: ${b}}, "${pick(['x', 'y', 'z'])}")`,
      () => `context put({x: ${a}}, "${pick(['x', 'y'])}", ${b})`,
      () => `if ${a} > ${b} then "gt" else "le"`,
      () => `if x > ${a} then x else ${b}`,
      () => `get entries({k: ${a}})`,
    ];
    add('context-if', pick(templates)(), { x: int(-9, 9) });
  }
  // in and ranges
  for (let i = 0; i < 200; i++) {
    const [v, a, b, c] = [int(-10, 10), int(-10, 10), int(-10, 10), int(-10, 10)];
    const lo = Math.min(a, b), hi = Math.max(a, b);
    const templates = [
      () => `${v} in [${lo}..${hi}]`, () => `${v} in (${lo}..${hi})`, () => `${v} in ]${lo}..${hi}]`,
      () => `${v} in (${a}, ${b}, ${c})`, () => `${v} in < ${a}`, () => `${v} in (>= ${a}, < ${b})`,
      () => `${v} in [${a}, ${b}]`,
    ];
    add('in-range', pick(templates)().replace(/(^|[ ([\],])-(\d+)/g, '$1-$2'));
  }
  // numeric functions
  for (let i = 0; i < 160; i++) {
    const [t] = num(), a = int(-50, 50), b = pick([2, 3, 4, 5, 7, -3]);
    const templates = [
      () => `floor(${t})`, () => `ceiling(${t})`, () => `abs(${t})`, () => `modulo(${a}, ${b})`,
      () => `odd(${a})`, () => `even(${a})`, () => `sqrt(${pick([0, 1, 4, 9, 16, 25, 144])})`,
      () => `decimal(${t}, ${pick([0, 1])})`, () => `round up(${t}, 0)`, () => `round down(${t}, 0)`,
      () => `string(${t})`, () => `number("${t}")`,
    ];
    add('numeric', pick(templates)());
  }
  // temporal
  const pad = (n) => String(n).padStart(2, '0');
  const dateText = () => `${int(1990, 2030)}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
  const timeText = () => `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`;
  const zone = () => pick(['', 'Z', '+02:00', '-05:00']);
  const dtDur = () => pick([`P${int(0, 40)}D`, `PT${int(1, 48)}H`, `P${int(0, 3)}DT${int(1, 23)}H${int(1, 59)}M`, `PT${int(1, 300)}M`, `PT${int(1, 90)}S`]);
  const ymDur = () => pick([`P${int(1, 5)}Y`, `P${int(1, 30)}M`, `P${int(1, 3)}Y${int(1, 11)}M`]);
  for (let i = 0; i < 320; i++) {
    const d1 = dateText(), d2 = dateText(), t = timeText(), z = zone();
    const templates = [
      () => `date("${d1}")`, () => `@"${d1}T${t}${z}"`, () => `time("${t}${z}")`,
      () => `duration("${dtDur()}")`, () => `duration("${ymDur()}")`,
      // whole days: feelin turns a date plus hours into a UTC date-time
      () => `date("${d1}") + duration("P${int(0, 40)}D")`,
      () => `date("${d1}") - duration("P${int(1, 400)}D")`,
      () => `date("${d1}") + duration("${ymDur()}")`,
      () => `date and time("${d1}T${t}${z}") + duration("${dtDur()}")`,
      () => `date and time("${d1}T${t}${z}") - duration("${ymDur()}")`,
      () => `date("${d1}") - date("${d2}")`,
      () => `date("${d1}") < date("${d2}")`,
      () => `date("${d1}") = date("${d2}")`,
      () => `@"${d1}T${t}${z}" > @"${d2}T${t}${z}"`,
      () => `duration("${dtDur()}") + duration("${dtDur()}")`,
      () => `duration("${ymDur()}") - duration("${ymDur()}")`,
      () => `duration("${dtDur()}") < duration("${dtDur()}")`,
      () => `date("${d1}").${pick(['year', 'month', 'day', 'weekday'])}`,
      () => `@"${d1}T${t}${z}".${pick(['hour', 'minute', 'second', 'year'])}`,
      () => `duration("${dtDur()}").${pick(['days', 'hours', 'minutes', 'seconds'])}`,
      () => `duration("${ymDur()}").${pick(['years', 'months'])}`,
      () => `day of week(date("${d1}"))`, () => `day of year(date("${d1}"))`,
      () => `week of year(date("${d1}"))`, () => `month of year(date("${d1}"))`,
      () => `string(date("${d1}"))`, () => `date(${int(1990, 2030)}, ${int(1, 12)}, ${int(1, 28)})`,
      () => `date and time(date("${d1}"), time("${t}"))`,
      () => `time("${t}") + duration("PT${int(1, 30)}H")`,
      () => `date("${d1}") in [date("${d1 < d2 ? d1 : d2}")..date("${d1 < d2 ? d2 : d1}")]`,
    ];
    add('temporal', pick(templates)());
  }
  // range functions (those feelin implements)
  const rng = () => {
    const a = int(0, 20), b = a + int(0, 10);
    return `${pick(['[', '(', ']'])}${a}..${b}${pick([']', ')', '['])}`;
  };
  for (let i = 0; i < 120; i++) {
    const p = int(0, 30);
    const templates = [
      () => `before(${p}, ${int(0, 30)})`, () => `before(${p}, ${rng()})`, () => `before(${rng()}, ${rng()})`,
      () => `after(${rng()}, ${p})`, () => `after(${rng()}, ${rng()})`, () => `meets(${rng()}, ${rng()})`,
      () => `met by(${rng()}, ${rng()})`, () => `overlaps(${rng()}, ${rng()})`,
      () => `includes(${rng()}, ${p})`, () => `includes(${rng()}, ${rng()})`,
    ];
    add('range-fn', pick(templates)());
  }
  return cases;
}

// A scaled BigInt (value * 10^scale) as canonical decimal text.
function fmt(v, scale) {
  const neg = v < 0n;
  let s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  let int = s.slice(0, s.length - scale), frac = s.slice(s.length - scale).replace(/0+$/, '');
  const text = frac ? `${int}.${frac}` : int;
  return neg && text !== '0' ? `-${text}` : text;
}
