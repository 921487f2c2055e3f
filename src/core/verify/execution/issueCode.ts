/**
 * The Python code an issue shows, as reproduction scripts: what its reporter ran to see the bug. A block that
 * fails on the snapshot reproduces the issue, and a fix should make it run cleanly, like any reproduction script.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ReproTest } from './reproTests.js';

/** Exit code with which the harness says that a block is not a reproduction at all (not code, or not runnable here). */
export const NOT_A_REPRODUCTION_EXIT = 97;
/** The line the harness prints before it exits with NOT_A_REPRODUCTION_EXIT; the reason follows it. */
export const NOT_A_REPRODUCTION_PREFIX = 'entropo: not a reproduction: ';

const MAX_BLOCKS = 8;
const MAX_BLOCK_CHARS = 20_000;
// Fences whose language says Python (or says nothing); `pytb`, `console`, `text` and the like hold output.
const PYTHON_FENCES = new Set(['', 'python', 'python3', 'py', 'py3', 'pycon', 'ipython', 'ipython3']);
const PROMPT = /^\s*(?:>>>|In \[\d+\]:)(?: |$)/;
const PROMPT_OR_CONTINUATION = /^\s*(?:>>>|\.\.\.|In \[\d+\]:|\s*\.\.\.:)(?: |$)/;

/** A code block of an issue, with what the issue shows it printing. */
export interface IssueBlock {
  code: string;
  /**
   * Outputs the issue shows for this code: a session's output lines, and the unmarked or text fences that follow
   * a Python fence or a session up to the next one; pooled over blocks of the same code (the reporter's session,
   * then what they expected). Two or more different ones make the output itself a reproduction (see `harness`).
   */
  shown: string[];
}

// Fences that may hold what code printed; an unmarked one may hold code too, and is then both.
const OUTPUT_FENCES = new Set(['', 'text', 'txt', 'output', 'plain', 'plaintext', 'none']);

/**
 * The code blocks of an issue, in order: fenced blocks marked Python or unmarked, and interactive sessions
 * outside any fence (from a `>>>` line to the next blank line). Of a session (`>>>`/`...`, IPython's
 * `In [1]:`/`...:`) only the input lines are kept, without their prompts; the output between them is left out.
 * Blocks that turn out not to be Python (a traceback, a listing) are told apart when they run, by Python itself.
 */
export function issueCodeBlocks(issue: string): string[] {
  return issueBlocks(issue).map((b) => b.code);
}

/** The code blocks of `issueCodeBlocks`, each with the outputs the issue shows for it. */
export function issueBlocks(issue: string): IssueBlock[] {
  const lines = issue.replace(/\r\n?/g, '\n').split('\n');
  const blocks: IssueBlock[] = [];
  // The last Python fence or session: the block whose output an unmarked or text fence after it shows.
  let owner: IssueBlock | undefined;
  let fence: { marker: string; language: string; body: string[] } | undefined;
  let session: string[] = [];
  const push = (block: IssueBlock, owns: boolean): void => {
    blocks.push(block);
    if (owns) owner = block;
  };
  const endSession = (): void => {
    if (session.length > 0) push(sessionBlock(session), true);
    session = [];
  };
  const endFence = (): void => {
    if (!fence) return;
    const { language, body } = fence;
    const text = body.join('\n');
    fence = undefined;
    if (PYTHON_FENCES.has(language) && body.some((l) => PROMPT.test(l))) return push(sessionBlock(body), true);
    if (OUTPUT_FENCES.has(language) && text.trim() !== '') owner?.shown.push(text);
    if (PYTHON_FENCES.has(language)) push({ code: text, shown: [] }, language !== '');
  };
  for (const line of lines) {
    if (fence) {
      if (line.trim().startsWith(fence.marker) && line.trim().replace(/[`~]/g, '') === '') endFence();
      else fence.body.push(line);
      continue;
    }
    const opening = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (opening) {
      endSession();
      fence = { marker: opening[1], language: opening[2].toLowerCase(), body: [] };
    } else if (PROMPT.test(line) || (session.length > 0 && line.trim() !== '')) session.push(line);
    else endSession();
  }
  // An unclosed fence runs to the end of the text, as Markdown renders it.
  endSession();
  endFence();
  const kept = blocks.filter((b) => b.code.trim() !== '' && b.code.length <= MAX_BLOCK_CHARS).slice(0, MAX_BLOCKS);
  return kept.map((block) => ({
    code: block.code,
    shown: kept.filter((other) => other.code.trim() === block.code.trim()).flatMap((other) => other.shown),
  }));
}

/** A session's input lines without their prompts, and its output lines (without `Out[n]:`) as what it shows. */
function sessionBlock(lines: readonly string[]): IssueBlock {
  const indent = /^\s*/.exec(lines.find((l) => PROMPT.test(l)) ?? '')?.[0] ?? '';
  const output = lines.filter((l) => !PROMPT_OR_CONTINUATION.test(l))
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l).replace(/^Out\[\d+\]: /, ''));
  const code = lines.filter((l) => PROMPT_OR_CONTINUATION.test(l)).map((l) => l.replace(PROMPT_OR_CONTINUATION, '')).join('\n');
  return { code, shown: output.join('\n').trim() === '' ? [] : [output.join('\n')] };
}

/** Whether the tree at `root` is a Python project, the only kind whose issues' code is run. */
export function looksLikePython(root: string): boolean {
  if (['pyproject.toml', 'setup.py', 'setup.cfg'].some((f) => existsSync(join(root, f)))) return true;
  // A package at the top or under src/ (the src layout).
  try {
    return ['', 'src'].some((under) => existsSync(join(root, under)) && readdirSync(join(root, under), { withFileTypes: true })
      .some((e) => e.isDirectory() && existsSync(join(root, under, e.name, '__init__.py'))));
  } catch {
    return false;
  }
}

/** The line with which the harness hands the reproduction signal what a block printed on the snapshot (JSON follows it). */
export const PRINTED_PREFIX = 'entropo: printed: ';

/**
 * One reproduction script per code block of the issue: the harness runs the blocks before it quietly (the
 * reporter's session so far), then the block itself as the interactive interpreter would, echoing the value of
 * each expression, so an exception in it fails the script.
 *
 * A block for which the issue shows two or more different outputs (what it printed, what it should print) fails
 * on the snapshot too when it prints one of them there, and hands that output on (PRINTED_PREFIX). The scripts
 * for the runs with candidates are made with `printedOnSnapshot`, those outputs by test id: such a block then
 * passes only when it prints another of the outputs the issue shows, and any other block as before, when it
 * runs cleanly. A bug whose symptom is a wrong value, not an exception, is reproduced so; and where an
 * output the issue shows is an exception (`ValueError: ...`, the last line of its traceback), a candidate
 * that raises it passes, since the issue expects that exception instead of the value printed.
 */
export function issueReproTests(issue: string, printedOnSnapshot?: ReadonlyMap<string, string>): ReproTest[] {
  const blocks = issueBlocks(issue);
  return blocks.map((block, k) => {
    const id = `issue code ${k + 1}`;
    const shown = [...new Set(block.shown.map((s) => s.trim()))];
    const printed = printedOnSnapshot?.get(id);
    // A run with a candidate compares outputs only where the snapshot failed by its output, not by an exception.
    const compare = shown.length < 2 || (printedOnSnapshot !== undefined && printed === undefined) ? null : { shown, snapshot: printed ?? null };
    return { id, path: `entropo_issue_code_${k + 1}.py`, content: harness(blocks.slice(0, k + 1).map((b) => b.code), compare),
      authors: [], interpreter: 'python3', origin: 'issue' };
  });
}

// Names the reporter did not import are looked up in the repository's own top-level packages, as if they had
// run `import pkg` or `from pkg import *` first. A name found nowhere, or a module that is neither installed nor
// part of the repository, means the block is not runnable here (often output shown as code): not a reproduction.
//
// With COMPARE, the last block's echoed output (stripped) is compared with what the issue shows: on the snapshot
// (COMPARE["snapshot"] is None) printing one of them fails; with a candidate, printing what the snapshot printed,
// or anything the issue does not show, fails. The two say the same last line, so that a candidate that left the
// output as it was "fails as on the snapshot".
function harness(blocks: readonly string[], compare: { shown: string[]; snapshot: string | null } | null): string {
  return `# The code of an issue, run as its reporter ran it; written by the reproduction signal and removed after.
import ast, contextlib, importlib, io, json, os, sys, textwrap
BLOCKS = ${JSON.stringify(blocks)}
COMPARE = json.loads(${JSON.stringify(JSON.stringify(compare))})
ns = {"__name__": "__main__"}
if os.path.isdir("src"):
    sys.path.insert(1, os.path.abspath("src"))
packages = [p for root in (".", "src") if os.path.isdir(root)
            for p in sorted(os.listdir(root)) if os.path.isfile(os.path.join(root, p, "__init__.py"))]

def not_a_reproduction(why):
    print(${JSON.stringify(NOT_A_REPRODUCTION_PREFIX)} + why)
    sys.exit(${NOT_A_REPRODUCTION_EXIT})

def parse(source):
    try:
        return ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None

def missing_name(error):
    name = getattr(error, "name", None)
    if name:
        return name
    words = str(error).split("'")
    return words[1] if len(words) > 2 else None

def bind(name):
    if not name:
        return False
    for package in packages:
        try:
            module = importlib.import_module(package)
        except Exception:
            continue
        if name == package or hasattr(module, name):
            ns[name] = module if name == package else getattr(module, name)
            return True
    return False

def raised_in_issue(error):
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename == "<issue>"

def run(tree, echo):
    for node in tree.body:
        code = compile(ast.Interactive([node]) if echo else ast.Module([node], []), "<issue>", "single" if echo else "exec")
        for _ in range(100):
            try:
                exec(code, ns)
                break
            except NameError as error:
                if not (raised_in_issue(error) and bind(missing_name(error))):
                    raise

tree = parse(BLOCKS[-1])
if tree is None:
    not_a_reproduction("not Python code")
for source in BLOCKS[:-1]:
    earlier = parse(source)
    if earlier is None:
        continue
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            run(earlier, False)
        except BaseException:
            pass
QUOTES = "'" + '"'

def shows_raising(error):
    # The exception's type as the traceback names it (a module path before it or not), and its message where
    # the issue gives one: the start of it, since an issue may cut a long one.
    for text in COMPARE["shown"]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            continue
        kind, _, message = lines[-1].partition(":")
        if kind.split(".")[-1] != type(error).__name__:
            continue
        message = message.strip()
        said = str(error).strip().strip(QUOTES)
        if not message or said.startswith(message.strip(QUOTES)):
            return True
    return False

class Tee(io.StringIO):
    def write(self, text):
        sys.__stdout__.write(text)
        return super().write(text)

echoed = Tee()
try:
    with contextlib.redirect_stdout(echoed):
        run(tree, True)
except NameError as error:
    if raised_in_issue(error):
        not_a_reproduction("uses %s, which the issue never defines" % (missing_name(error) or "a name"))
    raise
except ModuleNotFoundError as error:
    top = (error.name or "").split(".")[0]
    if not any(os.path.isdir(os.path.join(root, top)) or os.path.isfile(os.path.join(root, top + ".py")) for root in (".", "src")):
        not_a_reproduction("needs %s, which is not installed" % (error.name or "a module"))
    raise
except Exception as error:
    # The issue shows this exception as an output (its traceback's last line, "ValueError: ...") and the
    # snapshot printed another one: raising it is what the issue expects, as printing it would be.
    if COMPARE is not None and COMPARE["snapshot"] is not None and shows_raising(error):
        print("entropo: raises %s, as the issue shows it should" % type(error).__name__)
        sys.exit(0)
    raise

def short(text):
    text = json.dumps(text)
    return text if len(text) <= 120 else text[:117] + "..."

if COMPARE is not None:
    printed = echoed.getvalue().strip()
    before = COMPARE["snapshot"]
    if before is None and printed in COMPARE["shown"]:
        print(${JSON.stringify(PRINTED_PREFIX)} + json.dumps(printed))
    if printed == before or (before is None and printed in COMPARE["shown"]):
        print("entropo: prints %s, one of the %d outputs the issue shows, as on the snapshot" % (short(printed), len(COMPARE["shown"])))
        sys.exit(1)
    if before is not None and printed not in COMPARE["shown"]:
        print("entropo: prints %s, which the issue does not show" % short(printed))
        sys.exit(1)
`;
}
