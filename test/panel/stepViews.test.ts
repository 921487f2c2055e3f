import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/core/types.js';
import { toStepView } from '../../src/vscode/stepViews.js';

// stepViews.ts holds no `vscode` import: the steps the panel draws are plain data, checked here on plain Node.
const step = (action: Step['action'], observation = ''): Step => ({
  index: 2, thought: 'why', action, observation, formatError: false, usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 }, modelMs: 0, toolMs: 0,
});

describe('trajectory steps in the panel', () => {
  it('draws a str_replace as its removed and added lines, with the path relative to the repository', () => {
    const view = toStepView(step({ tool: 'file_editor', args: { command: 'str_replace', path: '/tmp/w/r1/pager/core.py', old_str: 'a\nb\n', new_str: 'c' } }), '/tmp/w/r1');
    expect(view).toMatchObject({ index: 3, kind: 'edit', action: 'file_editor str_replace pager/core.py', path: 'pager/core.py', diff: { removed: ['a', 'b'], added: ['c'] } });
    expect(toStepView(step({ tool: 'file_editor', args: { command: 'view', path: '/repo/x.py' } })).action).toBe('file_editor view x.py');
  });

  it('draws a shell command with its exit code, a timeout as such, and a malformed action as one', () => {
    expect(toStepView(step({ tool: 'execute_bash', args: { cmd: 'pytest -q\necho done' } }, 'Exit code: 2\nExecution output...')))
      .toMatchObject({ kind: 'shell', action: '$ pytest -q ...', command: 'pytest -q\necho done', exit: '2' });
    expect(toStepView(step({ tool: 'execute_bash', args: { cmd: 'sleep 999' } }, 'The command timed out after 90 s and was killed')).exit).toBe('timed out');
    expect(toStepView(step(null))).toMatchObject({ kind: 'malformed', action: '(malformed action)' });
    // An answer the token limit cut before its action was whole is named as such, not as the model's mistake.
    expect(toStepView({ ...step(null), cut: true })).toMatchObject({ kind: 'malformed', action: '(answer cut off at the token limit)' });
    expect(toStepView(step({ tool: 'search', args: { search_term: 'page_count' } }))).toMatchObject({ kind: 'other', action: 'search page_count' });
  });
});
