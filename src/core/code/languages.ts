/** Which tree-sitter grammar parses which file. */

import * as path from 'node:path';

/** A language the code module can parse. */
export type LanguageId =
  | 'python'
  | 'typescript'
  | 'tsx'
  | 'javascript'
  | 'go'
  | 'rust'
  | 'java'
  | 'c_sharp'
  | 'cpp'
  | 'c'
  | 'ruby'
  | 'php'
  | 'bash'
  | 'css';

/** A parseable language: its id and the grammar file shipped by @vscode/tree-sitter-wasm. */
export interface LanguageInfo {
  readonly id: LanguageId;
  readonly grammarFile: string;
}

/** Language id -> grammar file; C uses the C++ grammar because no C grammar ships with the package. */
export const languages: Readonly<Record<LanguageId, LanguageInfo>> = {
  python: { id: 'python', grammarFile: 'tree-sitter-python.wasm' },
  typescript: { id: 'typescript', grammarFile: 'tree-sitter-typescript.wasm' },
  tsx: { id: 'tsx', grammarFile: 'tree-sitter-tsx.wasm' },
  javascript: { id: 'javascript', grammarFile: 'tree-sitter-javascript.wasm' },
  go: { id: 'go', grammarFile: 'tree-sitter-go.wasm' },
  rust: { id: 'rust', grammarFile: 'tree-sitter-rust.wasm' },
  java: { id: 'java', grammarFile: 'tree-sitter-java.wasm' },
  c_sharp: { id: 'c_sharp', grammarFile: 'tree-sitter-c-sharp.wasm' },
  cpp: { id: 'cpp', grammarFile: 'tree-sitter-cpp.wasm' },
  c: { id: 'c', grammarFile: 'tree-sitter-cpp.wasm' },
  ruby: { id: 'ruby', grammarFile: 'tree-sitter-ruby.wasm' },
  php: { id: 'php', grammarFile: 'tree-sitter-php.wasm' },
  bash: { id: 'bash', grammarFile: 'tree-sitter-bash.wasm' },
  css: { id: 'css', grammarFile: 'tree-sitter-css.wasm' },
};

const byExtension: Readonly<Record<string, LanguageId>> = {
  '.py': 'python', '.pyi': 'python', '.pyw': 'python',
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.tsx': 'tsx',
  // The JavaScript grammar parses JSX as well, so .jsx needs no grammar of its own.
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascript',
  '.go': 'go',
  '.rs': 'rust',
  '.java': 'java',
  '.cs': 'c_sharp',
  '.cpp': 'cpp', '.cc': 'cpp', '.cxx': 'cpp', '.c++': 'cpp', '.hpp': 'cpp', '.hh': 'cpp', '.hxx': 'cpp',
  '.c': 'c', '.h': 'c',
  '.rb': 'ruby', '.rake': 'ruby', '.gemspec': 'ruby',
  '.php': 'php',
  '.sh': 'bash', '.bash': 'bash',
  '.css': 'css',
};

const byBasename: Readonly<Record<string, LanguageId>> = {
  Gemfile: 'ruby',
  Rakefile: 'ruby',
  '.bashrc': 'bash',
  '.bash_profile': 'bash',
};

/** The language of a file from its name, or undefined when no grammar covers it. */
export function languageForPath(filePath: string): LanguageInfo | undefined {
  const base = path.basename(filePath);
  // Own-property lookups: a file named "constructor" must not find Object.prototype.constructor.
  const ext = path.extname(base).toLowerCase();
  const id = Object.hasOwn(byBasename, base) ? byBasename[base]
    : Object.hasOwn(byExtension, ext) ? byExtension[ext] : undefined;
  return id === undefined ? undefined : languages[id];
}
