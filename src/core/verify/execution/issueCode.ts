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

/**
 * The code blocks of an issue, in order: fenced blocks marked Python or unmarked, and interactive sessions
 * outside any fence (from a `>>>` line to the next blank line). Of a session (`>>>`/`...`, IPython's
 * `In [1]:`/`...:`) only the input lines are kept, without their prompts; the output between them is left out.
 * Blocks that turn out not to be Python (a traceback, a listing) are told apart when they run, by Python itself.
 */
export function issueCodeBlocks(issue: string): string[] {
  const lines = issue.replace(/\r\n?/g, '\n').split('\n');
  const blocks: string[] = [];
  let fence: { marker: string; language: string; body: string[] } | undefined;
  let session: string[] = [];
  const endSession = (): void => {
    if (session.length > 0) blocks.push(inputLines(session));
    session = [];
  };
  const endFence = (): void => {
    if (fence && PYTHON_FENCES.has(fence.language)) blocks.push(fence.body.some((l) => PROMPT.test(l)) ? inputLines(fence.body) : fence.body.join('\n'));
    fence = undefined;
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
  return blocks.filter((b) => b.trim() !== '' && b.length <= MAX_BLOCK_CHARS).slice(0, MAX_BLOCKS);
}

function inputLines(lines: readonly string[]): string {
  return lines.filter((l) => PROMPT_OR_CONTINUATION.test(l)).map((l) => l.replace(PROMPT_OR_CONTINUATION, '')).join('\n');
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

/**
 * One reproduction script per code block of the issue: the harness runs the blocks before it quietly (the
 * reporter's session so far), then the block itself as the interactive interpreter would, echoing the value of
 * each expression, so an exception in it fails the script.
 */
export function issueReproTests(issue: string): ReproTest[] {
  const blocks = issueCodeBlocks(issue);
  return blocks.map((_, k) => ({
    id: `issue code ${k + 1}`,
    path: `entropo_issue_code_${k + 1}.py`,
    content: harness(blocks.slice(0, k + 1)),
    authors: [],
    interpreter: 'python3',
    origin: 'issue',
  }));
}

// Names the reporter did not import are looked up in the repository's own top-level packages, as if they had
// run `import pkg` or `from pkg import *` first. A name found nowhere, or a module that is neither installed nor
// part of the repository, means the block is not runnable here (often output shown as code): not a reproduction.
function harness(blocks: readonly string[]): string {
  return `# The code of an issue, run as its reporter ran it; written by the reproduction signal and removed after.
import ast, contextlib, importlib, io, os, sys, textwrap
BLOCKS = ${JSON.stringify(blocks)}
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
try:
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
`;
}
