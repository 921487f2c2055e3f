// Execution on real issues: `entropo rank --repo-dir` with the repository's tests on the dev set's sympy issues.
// Run (see eval/README.md for the whole procedure):
//   npx tsx eval/sympyExecution.ts prepare --data DEV.jsonl --repo-dir SYMPY_CHECKOUT --out input.jsonl [--all]
//   node dist/cli.js rank --candidates input.jsonl --repo-dir SYMPY_CHECKOUT --out ranked.jsonl ...
//   npx tsx eval/sympyExecution.ts report --data DEV.jsonl --ranked ranked.jsonl
// `prepare` writes one rank input line per sympy issue whose candidates are neither all resolved nor all
// unresolved (elsewhere every pick scores the same), each with a test command that runs the test files next
// to the modules any candidate changes. `report` prints top-1 resolved for random, oracle, static signals
// only (the same records with the test signals removed, ranked again by the same selector) and static +
// execution (as ranked), and variants of the regression score: tests every source-changing candidate breaks,
// or tests of what the issue names, left unscored; only tests of code the candidate did not change scored.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { select } from '../src/core/verify/select.js';
import type { CandidateSignals, SignalName, SignalValue } from '../src/core/verify/signalTypes.js';

interface Row { instance_id: string; repo: string; base_commit: string; problem_statement: string; candidates: { id: string; patch: string; resolved: boolean }[] }
type Ranked = { instance_id: string; status: string; ranking?: string[]; signals?: Record<string, CandidateSignals['signals']>; duration_ms?: number; reason?: string; error?: string };

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const need = (name: string): string => flag(name) ?? fail(`--${name} is required`);
function fail(message: string): never { process.stderr.write(`${message}\n`); process.exit(2); }
const rows = (): Row[] => readFileSync(need('data'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row).filter((r) => r.repo === 'sympy/sympy');
const mixed = (r: Row) => r.candidates.some((c) => c.resolved) && r.candidates.some((c) => !c.resolved);
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Test files next to the changed modules (`pkg/mod.py` -> `pkg/tests/test_mod.py`) that exist at the base commit. */
function relatedTests(repoDir: string, row: Row): string[] {
  const files = new Set<string>();
  for (const c of row.candidates) for (const m of c.patch.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) files.add(m[2]);
  const wanted = [...files].filter((f) => f.startsWith('sympy/') && f.endsWith('.py') && !f.includes('/tests/'))
    .map((f) => f.replace(/\/([^/]+)\.py$/, '/tests/test_$1.py'));
  const present = new Set(execFileSync('git', ['ls-tree', '-r', '--name-only', row.base_commit, '--', ...new Set(wanted.map((w) => w.replace(/[^/]+$/, '')))],
    { cwd: repoDir, encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n'));
  return [...new Set(wanted)].filter((w) => present.has(w)).sort();
}

function prepare(): void {
  const repoDir = need('repo-dir');
  const lines: string[] = [];
  for (const row of rows().filter((r) => args.includes('--all') || mixed(r))) {
    const tests = relatedTests(repoDir, row);
    // The checkout's .venv (mpmath, pytest) is linked into every worktree; the runner adds -rA itself.
    const testCommand = tests.length > 0 ? `.venv/bin/python -m pytest -p no:cacheprovider ${tests.join(' ')}` : undefined;
    process.stderr.write(`${row.instance_id}: ${tests.length} related test file(s) ${tests.join(' ')}\n`);
    lines.push(JSON.stringify({ instance_id: row.instance_id, problem_statement: row.problem_statement, base_commit: row.base_commit,
      ...(testCommand ? { test_command: testCommand } : {}), candidates: row.candidates.map((c) => ({ id: c.id, patch: c.patch })) }));
  }
  writeFileSync(need('out'), `${lines.join('\n')}\n`);
}

/** Top-1 resolved of a ranking, as an expectation over the candidates the selector cannot tell from its pick. */
function top1(row: Row, signals: CandidateSignals[], ranking: string[]): number {
  const key = (id: string) => {
    const s = signals.find((x) => x.candidateId === id)!.signals;
    const v = (n: SignalName) => { const x = s[n]; return x?.status === 'ok' ? x.score : null; };
    return JSON.stringify([v('validity'), v('finished'), v('regression'), v('reproduction'), v('judge') ?? v('local'), v('agreement')]);
  };
  const tied = ranking.filter((id) => key(id) === key(ranking[0]));
  return mean(tied.map((id) => Number(row.candidates.find((c) => c.id === id)!.resolved)));
}

/** The regression score recounted over the broken tests `counts` keeps, from the lists the signal's data names. */
function recounted(counts: (test: string, data: Record<string, unknown>) => boolean) {
  return (signals: CandidateSignals[]): CandidateSignals[] => signals.map((s) => {
    const r = s.signals.regression;
    if (r?.status !== 'ok' || !Array.isArray(r.data?.broken)) return s;
    const broken = (r.data.broken as string[]).filter((t) => counts(t, r.data!)).length;
    return { candidateId: s.candidateId, signals: { ...s.signals, regression: { ...r, score: broken === 0 ? 0 : -broken } as SignalValue } };
  });
}
const listed = (data: Record<string, unknown>, key: string, test: string) => Array.isArray(data[key]) && (data[key] as string[]).includes(test);

function withoutSignal(name: SignalName) {
  return (signals: CandidateSignals[]): CandidateSignals[] =>
    signals.map((s) => ({ candidateId: s.candidateId, signals: Object.fromEntries(Object.entries(s.signals).filter(([n]) => n !== name)) }));
}

const withoutTests = (signals: CandidateSignals[]) => withoutSignal('reproduction')(withoutSignal('regression')(signals));

/** The reproduction score recounted without the scripts of one origin; without the signal when none is left. */
function reproductionWithout(origin: string) {
  return (signals: CandidateSignals[]): CandidateSignals[] => signals.map((s) => {
    const r = s.signals.reproduction;
    if (r?.status !== 'ok') return s;
    const origins = (r.data?.origins ?? {}) as Record<string, string>;
    const left = Object.keys(origins).filter((t) => origins[t] !== origin);
    const rest = Object.fromEntries(Object.entries(s.signals).filter(([n]) => n !== 'reproduction'));
    if (left.length === 0) return { candidateId: s.candidateId, signals: rest };
    const passed = (r.data?.passed as string[]).filter((t) => left.includes(t)).length;
    return { candidateId: s.candidateId, signals: { ...rest, reproduction: { ...r, score: passed } as SignalValue } };
  });
}

/** Variants of the execution signals, each measured before any becomes a default. */
const VARIANTS = {
  regressionOnly: { name: 'static + regression tests only', rescore: withoutSignal('reproduction') },
  reproductionOnly: { name: 'static + reproduction scripts only', rescore: withoutSignal('regression') },
  noIssueCode: { name: 'static + execution, the issue\'s code not run as a reproduction', rescore: reproductionWithout('issue') },
  ignoreShared: { name: 'static + execution, shared breaks not scored', rescore: recounted((t, d) => !listed(d, 'sharedBroken', t)) },
  ignoreIssue: { name: 'static + execution, broken tests of what the issue names not scored', rescore: recounted((t, d) => !listed(d, 'ofIssue', t)) },
  unrelatedOnly: { name: 'static + execution, only broken tests of unrelated code scored', rescore: recounted((t, d) => !listed(d, 'ofIssue', t) && !listed(d, 'ofChangedCode', t)) },
};
type Variant = keyof typeof VARIANTS;

// The validity rule before patches that only add files were rejected, to show what that rule alone does.
function addedFilesValid(signals: CandidateSignals[]): CandidateSignals[] {
  return signals.map((s) => {
    const v = s.signals.validity;
    if (v?.status !== 'ok' || !v.detail.startsWith('only adds new files')) return s;
    return { candidateId: s.candidateId, signals: { ...s.signals, validity: { ...v, score: 1 } } };
  });
}

function report(): void {
  const all = rows();
  const ranked = new Map(readFileSync(need('ranked'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ranked).map((r) => [r.instance_id, r]));
  const figures: Record<'random' | 'oracle' | 'oldStatic' | 'static' | 'execution' | Variant, number[]> = {
    random: [], oracle: [], oldStatic: [], static: [], execution: [], regressionOnly: [], reproductionOnly: [], noIssueCode: [], ignoreShared: [], ignoreIssue: [], unrelatedOnly: [] };
  const picked = ['oldStatic', 'static', 'execution', ...Object.keys(VARIANTS)] as (keyof typeof figures)[];
  const notes: string[] = [];
  let wall = 0;
  for (const row of all) {
    const random = mean(row.candidates.map((c) => Number(c.resolved)));
    figures.random.push(random);
    figures.oracle.push(Number(row.candidates.some((c) => c.resolved)));
    const r = ranked.get(row.instance_id);
    if (!mixed(row)) {
      // Every candidate alike: any pick scores the same.
      for (const k of picked) figures[k].push(random);
      continue;
    }
    if (r?.status !== 'ranked' || !r.signals) {
      notes.push(`${row.instance_id}: not ranked (${r?.reason ?? 'missing'}: ${r?.error ?? ''}); counted as a random pick`);
      for (const k of picked) figures[k].push(random);
      continue;
    }
    wall += r.duration_ms ?? 0;
    const signals = Object.entries(r.signals).map(([candidateId, s]) => ({ candidateId, signals: s }));
    const pick = (s: CandidateSignals[]) => top1(row, s, select(s).order);
    const old = pick(addedFilesValid(withoutTests(signals)));
    const stat = pick(withoutTests(signals));
    const exec = pick(signals);
    figures.oldStatic.push(old);
    figures.static.push(stat);
    figures.execution.push(exec);
    const variants = Object.entries(VARIANTS).map(([k, v]) => {
      const value = pick(v.rescore(signals));
      figures[k as Variant].push(value);
      return `${k} ${value.toFixed(2)}`;
    });
    const regression = signals.map((s) => s.signals.regression);
    const measured = regression.filter((v) => v?.status === 'ok').length;
    const why = regression.find((v) => v?.status === 'unavailable');
    const resolved = row.candidates.filter((c) => c.resolved).map((c) => c.id).join(' ');
    const repro = signals.map((x) => [x.candidateId, x.signals.reproduction] as const);
    const reproOk = repro.filter(([, v]) => v?.status === 'ok');
    const reproNote = reproOk.length > 0
      ? `reproduction passes ${reproOk.map(([id, v]) => `${id} ${v?.status === 'ok' ? v.score : ''}`).join(', ')} of ${String((reproOk[0][1] as { data?: { total?: number } }).data?.total)}`
      : `no reproduction (${repro[0]?.[1]?.status === 'unavailable' ? repro[0][1].reason.slice(0, 120) : 'missing'})`;
    const first = (s: CandidateSignals[]) => select(s).order[0];
    notes.push(`${row.instance_id} (resolved: ${resolved}; picks: static ${first(withoutTests(signals))}, execution ${first(signals)}): `
      + `static ${stat.toFixed(2)} (${old.toFixed(2)} before the new-files rule), execution ${exec.toFixed(2)}, ${variants.join(', ')}; regression measured for ${measured}/${signals.length}`
      + `${why?.status === 'unavailable' ? ` (one unavailable: ${why.reason.slice(0, 160)})` : ''}; ${reproNote}; ${((r.duration_ms ?? 0) / 1000).toFixed(0)} s`);
  }
  const line = (name: string, xs: number[]) => `| ${name} | ${mean(xs).toFixed(3)} | ${xs.reduce((a, b) => a + b, 0).toFixed(2)} |`;
  process.stdout.write([
    `${all.length} sympy issues, ${all.filter(mixed).length} with both resolved and unresolved candidates (the only ones where the pick matters).`, '',
    '| selector | top-1 resolved | issues resolved (expected) |', '|---|---|---|',
    line('random pick', figures.random), line('oracle', figures.oracle),
    line('static signals only, patches adding only new files still valid', figures.oldStatic), line('static signals only', figures.static),
    line('static + execution', figures.execution), ...Object.entries(VARIANTS).map(([k, v]) => line(v.name, figures[k as Variant])), '',
    `Verification wall time of the ranked issues (sum over issues, run concurrently): ${(wall / 1000).toFixed(0)} s`, '', ...notes.map((n) => `- ${n}`), '',
  ].join('\n'));
}

if (args[0] === 'prepare') prepare();
else if (args[0] === 'report') report();
else fail('Usage: sympyExecution.ts prepare|report ...');
